#!/usr/bin/python3
"""Pre-commit hook benchmark: `watchd check --staged` against pre-commit.

One fresh git repository (unborn HEAD) holds N staged .py files (1,000 by
default) plus both tools' configs. Two cases, each run side by side in
alternating rounds so that both tools see the same machine load:

  warm  every file already judged (`watchd run` once beforehand): watchd
        answers from its cache; pre-commit runs a `repo: local`, `language:
        system` hook whose entry is `true` on the same files, i.e. the
        framework doing nothing.  Target: watchd <= 0.5x pre-commit's wall
        time, and no more peak memory.
  cold  no result cached: before every watchd round each file gets new
        content (staged with `git add`, outside the timing), as after a
        large edit the daemon never saw; the ledger, and so the tool's
        version, is kept. Both run the same Ruff engine (tests/tools/ruff,
        the Node wrapper over Ruff's WASM build), pre-commit as a system
        hook `ruff check --output-format=json`, split over
        target_concurrency = CPUs processes as it does.  Target: watchd
        <= 0.6x.
  first nothing cached at all: ROOT/.watchd is removed before every watchd
        round (no results, no tool version, a new ledger), so watchd also
        probes `ruff --version` (beside the run) and creates its ledger.
        Same target.

Wall time is the whole command, from fork to exit; peak memory is the
largest resident set of any process of the command's tree (wait4's
ru_maxrss, which covers the descendants it waited for). Each figure is the
median of the rounds with its range (min-max).

    bench_hook.py --watchd ./watchd [--files 1000] [--rounds 11] [--out build/bench/hook.json]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(REPO, "tests", "tools")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_measured(argv, cwd, env):
    """(wall seconds, peak RSS KiB, rc) of argv run to completion."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    # wait4 and not p.wait(): the rusage holds the tree's largest RSS
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode("utf-8", "replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0,):
        raise SystemExit(f"bench: {' '.join(argv)} exited {p.returncode}: {err[-2000:]}")
    return wall, ru.ru_maxrss, p.returncode


def git(root, *args):
    subprocess.run(["git", "-C", root, *args], check=True, stdout=subprocess.DEVNULL)


PRE_COMMIT_CFG = """repos:
- repo: local
  hooks:
  - id: bench
    name: bench
    entry: "{entry}"
    language: system
    types: [python]
"""


def write_files(root, nfiles, salt=0):
    for i in range(nfiles):
        d = os.path.join(root, "pkg%02d" % (i % 20))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "mod%04d.py" % i), "w") as f:
            f.write("VALUE_%d = %d\n\n\ndef f_%d(x):\n    return x + VALUE_%d\n" % (
                i, i + salt, i, i))


def make_repo(root, nfiles, entry):
    os.makedirs(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "bench")
    git(root, "config", "user.email", "bench@watchd.invalid")
    write_files(root, nfiles)
    with open(os.path.join(root, "watch.config.json"), "w") as f:
        json.dump({"version": 1, "gates": [
            {"name": "ruff", "type": "ruff", "include": ["**/*.py"],
             "config_files": ["pyproject.toml", "ruff.toml"]}]}, f)
    with open(os.path.join(root, ".pre-commit-config.yaml"), "w") as f:
        f.write(PRE_COMMIT_CFG.format(entry=entry))
    git(root, "add", "-A")


def summary(vals):
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals), "all": vals}


def case(name, root, env, rounds, watchd_argv, before_watchd=None):
    pc_argv = ["pre-commit", "run"]
    # pre-commit's first run creates its own store; not part of a round
    run_measured(pc_argv, root, env)
    times = {"watchd": [], "pre-commit": []}
    rss = {"watchd": [], "pre-commit": []}
    for r in range(rounds):
        # alternate which goes first, so neither always follows the other
        order = ["watchd", "pre-commit"] if r % 2 == 0 else ["pre-commit", "watchd"]
        for tool in order:
            if tool == "watchd":
                if before_watchd:
                    before_watchd()
                w, m, _ = run_measured(watchd_argv, root, env)
            else:
                w, m, _ = run_measured(pc_argv, root, env)
            times[tool].append(w)
            rss[tool].append(m / 1024.0)
        log("  %s round %d: watchd %.3f s %.1f MiB, pre-commit %.3f s %.1f MiB" % (
            name, r + 1, times["watchd"][-1], rss["watchd"][-1],
            times["pre-commit"][-1], rss["pre-commit"][-1]))
    res = {t: {"wall_s": summary(times[t]), "peak_rss_mib": summary(rss[t])} for t in times}
    res["ratio_time"] = res["watchd"]["wall_s"]["median"] / res["pre-commit"]["wall_s"]["median"]
    res["ratio_rss"] = (res["watchd"]["peak_rss_mib"]["median"] /
                        res["pre-commit"]["peak_rss_mib"]["median"])
    return res


def fmt_range(s, scale=1.0, unit=""):
    return "%.1f%s (%.1f-%.1f)" % (s["median"] * scale, unit, s["min"] * scale, s["max"] * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--watchd", default=os.path.join(REPO, "watchd"))
    ap.add_argument("--files", type=int, default=int(os.environ.get("BENCH_HOOK_FILES", 1000)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_HOOK_ROUNDS", 11)))
    ap.add_argument("--cases", default=os.environ.get("BENCH_HOOK_CASES", "warm,cold,first"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "hook.json"))
    ap.add_argument("--tmp", default=os.environ.get("BENCH_TMP", "/tmp"))
    args = ap.parse_args()
    watchd = os.path.abspath(args.watchd)
    if shutil.which("pre-commit") is None:
        raise SystemExit("bench: pre-commit is not installed (apt-get install pre-commit)")
    pc_version = subprocess.run(["pre-commit", "--version"], capture_output=True,
                                text=True).stdout.strip()
    ruff = os.path.join(TOOLS, "ruff")
    work = tempfile.mkdtemp(prefix="watchd-bench-hook-", dir=args.tmp)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "WATCHD_", "PRE_COMMIT"))}
    env["PATH"] = TOOLS + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["PRE_COMMIT_HOME"] = os.path.join(work, "pre-commit-home")
    env["XDG_RUNTIME_DIR"] = work
    results = {}
    try:
        cases = [c for c in args.cases.split(",") if c]
        if "warm" in cases:
            root = os.path.join(work, "warm")
            make_repo(root, args.files, "true")
            log("warm: %d staged files, every one judged by `watchd run`" % args.files)
            run_measured([watchd, "run"], root, env)
            results["warm"] = case("warm", root, env, args.rounds,
                                   [watchd, "check", "--staged"])
        for name in ("cold", "first"):
            if name not in cases:
                continue
            root = os.path.join(work, name)
            make_repo(root, args.files, "%s check --output-format=json" % ruff)
            state = os.path.join(root, ".watchd")
            if name == "cold":
                salt = [0]

                def before(root=root, salt=salt):
                    salt[0] += 1
                    write_files(root, args.files, salt[0] * 100000)
                    git(root, "add", "-A")
                # the ledger exists and knows the tool's version
                run_measured([watchd, "run"], root, env)
                log("cold: %d staged files with new content each round (no result "
                    "cached), both running %s" % (args.files, ruff))
            else:
                def before(state=state):
                    shutil.rmtree(state, ignore_errors=True)
                log("first: %d staged files, nothing cached, no ledger, both running %s" % (
                    args.files, ruff))
            results[name] = case(name, root, env, args.rounds,
                                 [watchd, "check", "--staged"], before_watchd=before)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    targets = {"warm": 0.5, "cold": 0.6, "first": 0.6}
    head = "watchd hook benchmark — %s" % datetime.datetime.now(datetime.timezone.utc) \
        .isoformat(timespec="seconds")
    print(head)
    print("machine: %s, %d cores, Linux %s; %s; %d staged .py files, %d rounds" % (
        platform.processor() or platform.machine(), os.cpu_count() or 0, platform.release(),
        pc_version, args.files, args.rounds))
    print()
    print("%-5s  %-26s  %-26s  %-7s  %-22s  %-22s  %-7s  %s" % (
        "case", "watchd ms median (range)", "pre-commit ms", "time x", "watchd peak MiB",
        "pre-commit peak MiB", "mem x", "target"))
    for name, res in results.items():
        ok = res["ratio_time"] <= targets[name] and (name != "warm" or res["ratio_rss"] <= 1.0)
        print("%-5s  %-26s  %-26s  %-7.2f  %-22s  %-22s  %-7.2f  %s" % (
            name, fmt_range(res["watchd"]["wall_s"], 1000.0),
            fmt_range(res["pre-commit"]["wall_s"], 1000.0), res["ratio_time"],
            fmt_range(res["watchd"]["peak_rss_mib"]), fmt_range(res["pre-commit"]["peak_rss_mib"]),
            res["ratio_rss"],
            "<= %.1fx%s: %s" % (targets[name], ", mem <= 1x" if name == "warm" else "",
                                "yes" if ok else "NO")))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"date": head, "files": args.files, "rounds": args.rounds,
                   "pre_commit": pc_version, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
