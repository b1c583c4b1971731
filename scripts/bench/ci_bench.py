#!/usr/bin/python3
"""Warm `watchd ci` against pre-commit, side by side in one run.

A git repository of N tracked .py files (default 1000) with a ruff gate whose
results are all in the ledger (a restored CI cache), against pre-commit's
`run --all-files` with one `language: system` hook whose entry is `true`.
The two alternate, REPS times each after a warm-up; the report gives each
one's median and spread (min..max) and the ratio of the medians.
Usage: ci_bench.py --watchd ./watchd [--files 1000] [--reps 15] [--out FILE]"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[2] / "tests" / "tools"


def sh(args, cwd, env=None):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def timed(args, cwd, env):
    t = time.perf_counter()
    p = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return time.perf_counter() - t, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--watchd", default="./watchd")
    ap.add_argument("--files", type=int, default=int(os.environ.get("BENCH_CI_FILES", 1000)))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_CI_REPS", 15)))
    ap.add_argument("--out", default="build/bench/ci.json")
    a = ap.parse_args()
    watchd = str(Path(a.watchd).resolve())
    precommit = shutil.which("pre-commit")
    env = dict(os.environ)
    for k in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "WATCHD_SKIP"):
        env.pop(k, None)
    if not shutil.which("ruff"):
        env["PATH"] = f"{TOOLS}:{env['PATH']}"
    if precommit is None:
        print("bench-ci: pre-commit is not installed (apt-get install pre-commit)",
              file=sys.stderr)
        return 1
    root = Path(tempfile.mkdtemp(prefix="wd-ci-bench-"))
    try:
        sh(["git", "init", "-q", "-b", "main"], root)
        sh(["git", "config", "user.email", "bench@watchd.invalid"], root)
        sh(["git", "config", "user.name", "bench"], root)
        for i in range(a.files):
            d = root / f"pkg{i % 20}"
            d.mkdir(exist_ok=True)
            (d / f"m{i}.py").write_text(f"X{i} = {i}\n")
        (root / "watch.config.json").write_text(json.dumps({"version": 1, "gates": [
            {"name": "ruff", "type": "ruff", "include": ["**/*.py"]}]}))
        (root / ".pre-commit-config.yaml").write_text(
            "repos:\n- repo: local\n  hooks:\n  - id: noop\n    name: noop\n"
            "    entry: 'true'\n    language: system\n    types: [python]\n")
        sh(["git", "add", "-A"], root)
        sh(["git", "commit", "-q", "-m", "bench"], root)
        # fill the ledger (what a restored CI cache holds), then warm up both
        rc, _, err = sh([watchd, "ci"], root, env)
        if rc != 0:
            print(f"bench-ci: the cold run failed ({rc}): {err[-500:]}", file=sys.stderr)
            return 1
        w_cmd, p_cmd = [watchd, "ci"], [precommit, "run", "--all-files"]
        timed(w_cmd, root, env)
        timed(p_cmd, root, env)
        w, p = [], []
        for _ in range(a.reps):
            t, rc = timed(w_cmd, root, env)
            assert rc == 0, rc
            w.append(t)
            t, rc = timed(p_cmd, root, env)
            assert rc == 0, rc
            p.append(t)
        rc, out, _ = sh([watchd, "ci", "--format", "json"], root, env)
        cached = all(g["cached"] for g in json.loads(out)["gates"])
        res = {"files": a.files, "reps": a.reps, "cached": cached,
               "watchd_ci_s": w, "precommit_s": p,
               "watchd_median_s": statistics.median(w), "precommit_median_s": statistics.median(p),
               "ratio": statistics.median(w) / statistics.median(p),
               "precommit_version": sh([precommit, "--version"], root)[1].strip()}
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
        print(f"warm ci, {a.files} tracked .py files, every result in the ledger "
              f"(cached: {cached}), {a.reps} alternating runs")
        print(f"  watchd ci                     median {res['watchd_median_s']:.3f} s"
              f"  (min {min(w):.3f}, max {max(w):.3f})")
        print(f"  {res['precommit_version']:<29} median {res['precommit_median_s']:.3f} s"
              f"  (min {min(p):.3f}, max {max(p):.3f})  run --all-files, hook `true`")
        print(f"  ratio (medians): {res['ratio']:.2f}  (target <= 0.5)")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
