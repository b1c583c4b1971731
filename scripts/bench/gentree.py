#!/usr/bin/python3
"""Deterministic source-like tree for the watcher benchmark.

    gentree.py DEST --files N --dirs M [--seed S]

Creates M directories (a tree with fan-out 10, so 10k directories are about
four levels deep) and N small files spread over the root and those
directories. The same (N, M, seed) always gives byte-identical trees, so
every tool in one run sees exactly the same input. Importable: layout()
returns the relative directory and file lists without touching the disk.
"""
import argparse
import os
import random
import sys

FANOUT = 10


def layout(files, dirs, seed=1):
    """Returns (dirs, files): relative paths, parents before children."""
    rng = random.Random(seed)
    dpaths = [""]  # index 0 is the root
    for i in range(1, dirs + 1):
        parent = dpaths[(i - 1) // FANOUT]
        name = "d%05d" % i
        dpaths.append(parent + "/" + name if parent else name)
    fpaths = []
    for j in range(files):
        d = dpaths[rng.randrange(len(dpaths))]
        name = "f%06d.%s" % (j, ("c", "h", "py", "txt", "md")[j % 5])
        fpaths.append(d + "/" + name if d else name)
    return dpaths[1:], fpaths


def content(rel):
    # ~100 bytes, different per file, stable across runs
    return ("// %s\n" % rel + "x" * 80 + "\n").encode()


def generate(dest, files, dirs, seed=1):
    dl, fl = layout(files, dirs, seed)
    os.makedirs(dest, exist_ok=True)
    for d in dl:
        os.mkdir(os.path.join(dest, d))
    for f in fl:
        fd = os.open(os.path.join(dest, f), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, content(f))
        os.close(fd)
    return dl, fl


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest")
    ap.add_argument("--files", type=int, default=100000)
    ap.add_argument("--dirs", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if os.path.exists(a.dest) and os.listdir(a.dest):
        sys.exit("gentree: %s exists and is not empty" % a.dest)
    generate(a.dest, a.files, a.dirs, a.seed)


if __name__ == "__main__":
    main()
