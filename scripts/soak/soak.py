#!/usr/bin/env python3
"""make soak: the daemon under random churn for SOAK_MINUTES (30), then the
verdict. Not part of make test.

The churn, from one seeded random stream (SOAK_SEED): edits, new files,
renames, deletes, bursts of a few hundred files, directory moves, config
edits (valid and invalid), and clients that connect, ask and leave. Every
SOAK_SAMPLE_S (10) seconds it samples the daemon's RSS and open fds.

Bursts are balanced (an old burst directory goes when a new one comes),
and creates and deletes keep the tree near 1,000 files, so that RSS
measures what the daemon leaks, not what a bigger tree needs.

It passes when
  - RSS grew by less than 5 % between the 5-minute mark (SOAK_WARM_MIN) and
    the end,
  - the fd count at the end is within 4 of its value at the mark,
  - no path was lost: after `status --sync`, a one-shot `watchd run` judges
    every file the gate covers from the cache, i.e. the daemon had already
    judged each file's current content.
Prints a summary (and writes it as JSON to build/soak/soak.json)."""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WATCHD = os.environ.get("WATCHD", str(REPO / "watchd"))
MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
WARM_MIN = float(os.environ.get("SOAK_WARM_MIN", str(min(5.0, MINUTES / 6))))
SAMPLE_S = float(os.environ.get("SOAK_SAMPLE_S", "10"))
SEED = int(os.environ.get("SOAK_SEED", "1"))


def sh(*args, root, check=True, timeout=120, env=None):
    p = subprocess.run([WATCHD, "--root", str(root), *args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    if check and p.returncode not in (0, 1):
        raise SystemExit(f"soak: watchd {' '.join(args)} -> {p.returncode}: {p.stderr}")
    return p


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


TOOL = "#!/bin/sh\n[ -n \"$SOAK_LOG\" ] && printf '%s\\n' \"$@\" >> \"$SOAK_LOG\"\nexit 0\n"


def config(debounce, bad=False):
    cfg = {"version": 1, "debounce_ms": debounce, "stability_ms": 20,
           "gates": [{"name": "lines", "type": "command", "include": ["**/*.txt"],
                      "command": ["../soak-tool", "{files}"], "parser": "exit"}]}
    text = json.dumps(cfg, indent=1)
    return text.replace('"gates"', '"gates" "oops"') if bad else text


def main():
    rnd = random.Random(SEED)
    base = Path(tempfile.mkdtemp(prefix="watchd-soak-"))
    root = base / "tree"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for d in range(20):
        (root / f"d{d}").mkdir()
        for f in range(50):
            (root / f"d{d}" / f"f{f}.txt").write_text(f"{d} {f}\n")
    (root / "watch.config.json").write_text(config(50))
    (base / "soak-tool").write_text(TOOL)
    (base / "soak-tool").chmod(0o755)
    sh("run", root=root, timeout=600)  # the content before the daemon: judged once
    r = sh("start", root=root)
    if r.returncode != 0:
        raise SystemExit(f"soak: start failed: {r.stderr}")
    pid = json.loads(sh("status", "--json", root=root).stdout)["pid"]
    sock = json.loads(sh("status", "--json", root=root).stdout)["socket"]
    counts = {k: 0 for k in ("edit", "create", "rename", "delete", "burst", "dirmove",
                             "config", "bad_config", "client")}
    samples = []
    t0 = time.monotonic()
    end = t0 + MINUTES * 60
    next_sample = t0
    mark = None
    serial = 0
    target = 1000  # files the churn keeps the tree near
    bursts = []
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_sample:
                samples.append({"t_s": round(now - t0, 1), "rss_kib": rss_kib(pid),
                                "fds": nfds(pid)})
                next_sample += SAMPLE_S
                if mark is None and now - t0 >= WARM_MIN * 60:
                    mark = samples[-1]
            files = [p for p in root.rglob("*.txt")]
            op = rnd.choices(list(counts), weights=[40, 15, 10, 10, 2, 1, 1, 1, 10])[0]
            serial += 1
            if op == "edit" and files:
                rnd.choice(files).write_text(f"edit {serial}\n" * rnd.randint(1, 20))
            elif op == "create" and len(files) < target * 1.1:
                d = root / f"d{rnd.randrange(20)}"
                d.mkdir(exist_ok=True)
                (d / f"n{serial}.txt").write_text(f"{serial}\n")
            elif op == "rename" and files:
                src = rnd.choice(files)
                src.rename(src.with_name(f"r{serial}.txt"))
            elif op == "delete" and len(files) > target * 0.9:
                rnd.choice(files).unlink()
            elif op == "burst":
                # a burst of new files, then an old burst removed whole:
                # the tree keeps its size, so RSS measures leaks, not state
                d = root / f"burst{serial}"
                d.mkdir()
                for i in range(rnd.randint(100, 400)):
                    (d / f"b{i}.txt").write_text(f"{i}\n")
                bursts.append(d)
                if len(bursts) > 3:
                    shutil.rmtree(bursts.pop(0), ignore_errors=True)
            elif op == "dirmove":
                dirs = [p for p in root.iterdir() if p.is_dir() and p.name != ".git"
                        and p.name != ".watchd"]
                if dirs:
                    src = rnd.choice(dirs)
                    dst = root / f"moved{serial}"
                    src.rename(dst)
                    if src in bursts:
                        bursts[bursts.index(src)] = dst
            elif op == "config":
                (root / "watch.config.json").write_text(config(rnd.choice([30, 50, 80])))
            elif op == "bad_config":
                (root / "watch.config.json").write_text(config(50, bad=True))
                time.sleep(0.2)
                (root / "watch.config.json").write_text(config(50))
            elif op == "client":
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock)
                if rnd.random() < 0.5:
                    s.sendall(b'{"cmd":"status"}\n')
                    if rnd.random() < 0.5:
                        s.recv(65536)
                s.close()
            counts[op] += 1
            time.sleep(rnd.uniform(0.005, 0.05))
        (root / "watch.config.json").write_text(config(50))
        synced = sh("status", "--sync", "--json", "--timeout", "600", root=root, timeout=700)
        final = {"t_s": round(time.monotonic() - t0, 1), "rss_kib": rss_kib(pid),
                 "fds": nfds(pid)}
        samples.append(final)
        # what the final run hands the tool is what the daemon never judged
        log = base / "final-run.log"
        sh("run", root=root, timeout=1200, env={**os.environ, "SOAK_LOG": str(log)})
        lost = sorted(set(log.read_text().split("\n")) - {"", "--"}) if log.exists() else []
        alive = True
    finally:
        sh("stop", root=root, check=False)
    mark = mark or samples[0]
    growth = (final["rss_kib"] - mark["rss_kib"]) / mark["rss_kib"] * 100
    out = {"minutes": MINUTES, "seed": SEED, "operations": counts,
           "rss_mark_kib": mark["rss_kib"], "rss_end_kib": final["rss_kib"],
           "rss_growth_pct": round(growth, 2), "fds_mark": mark["fds"], "fds_end": final["fds"],
           "fds_min": min(s["fds"] for s in samples), "fds_max": max(s["fds"] for s in samples),
           "files_at_end": sum(1 for _ in root.rglob("*.txt")), "lost_paths": lost[:20],
           "n_lost": len(lost), "synced": synced.returncode in (0, 1), "alive": alive,
           "samples": samples}
    Path(REPO / "build" / "soak").mkdir(parents=True, exist_ok=True)
    (REPO / "build" / "soak" / "soak.json").write_text(json.dumps(out, indent=1))
    ok = growth < 5 and abs(final["fds"] - mark["fds"]) <= 4 and not lost
    print(f"soak: {MINUTES:g} min, {sum(counts.values())} operations {counts}")
    print(f"soak: RSS {mark['rss_kib']} KiB at {mark['t_s']} s -> {final['rss_kib']} KiB at end "
          f"({growth:+.2f} %, limit 5 %)")
    print(f"soak: fds {mark['fds']} at the mark, {final['fds']} at end "
          f"(range {out['fds_min']}..{out['fds_max']})")
    print(f"soak: {out['files_at_end']} files at end, {len(lost)} lost "
          f"(judged by the final run, not from the daemon's results)")
    print("soak: " + ("PASS" if ok else "FAIL"))
    shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
