#!/usr/bin/python3
"""Remote result cache benchmark: a fresh clone with a warm remote cache
against the same fresh clone with no remote (the tool runs).

Repository A holds N generated .py files (1,000 by default, bench_hook.py's
generator) and one gate, ruff (tests/tools/ruff, the Node wrapper over
Ruff's WASM engine). A real nginx (Debian's, WebDAV PUT, started here on a
free port: tests/integration/httpcache.py) is the Bazel HTTP cache; `watchd
run` in A with WATCHD_REMOTE_CACHE_WRITE=1 fills it. Then B, a git clone of
A, is timed in alternating rounds, each starting with no .watchd/ (a fresh
clone: no ledger, no tool version):

  run     `watchd run` with WATCHD_REMOTE_CACHE_URL (read only) against
          `watchd run` with no remote (Ruff judges every file).
          Target: remote <= 0.1x the local wall time.
  run-known  the same, but each round first leaves a ledger that knows the
          tool's version and no result (one `watchd run` of another file,
          outside the timing): the remote path without the version probe.
  hook    `watchd check --staged` on the same N files staged as new
          (B soft-reset to the commit before them, so the blobs are A's):
          the pre-commit hook with a cold local ledger. Same target.
  hook-known  the same, the tool's version known beforehand (as run-known).

For every remote round the nginx access log gives the requests it made:
counts by method, the connections they came on ("conns"), the largest
number of those busy at once ("busy": a client asking in sequence keeps one
keep-alive connection busy; requests in flight at once are in the JSON too,
but nginx logs milliseconds and a loopback request takes less) and the span
from the first request's start to the last one's end. N files must not mean
N sequential round trips.

    bench_remote.py --watchd ./watchd [--files 1000] [--rounds 5] [--cases run,run-known,hook,hook-known]
                    [--out build/bench/remote.json]
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
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)

import httpcache  # noqa: E402  (tests/integration: the nginx the tests use)
from bench_hook import write_files  # noqa: E402  (the same generated tree)

TARGET = 0.1


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def git(root, *args):
    subprocess.run(["git", "-C", root, *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def timed(argv, cwd, env):
    """(wall seconds, rc, stdout) of argv run to completion; rc 0 or 1 (a
    gate failed) is a finished run, anything else ends the benchmark."""
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True)
    wall = time.monotonic() - t0
    if p.returncode not in (0, 1):
        raise SystemExit("bench: %s exited %d: %s" % (
            " ".join(argv), p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    return wall, p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def make_origin(root, nfiles):
    os.makedirs(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "bench")
    git(root, "config", "user.email", "bench@watchd.invalid")
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("bench\n")
    with open(os.path.join(root, "watch.config.json"), "w") as f:
        json.dump({"version": 1, "gates": [
            {"name": "ruff", "type": "ruff", "include": ["**/*.py"],
             "config_files": ["pyproject.toml", "ruff.toml"]}]}, f)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "config")
    # the hook case stages these anew on top of this first commit
    write_files(root, nfiles)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "files")


def gate_summary(stdout):
    """What the run's JSON says about its one gate (None without JSON)."""
    try:
        g = json.loads(stdout)["gates"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    out = {k: g.get(k) for k in ("status", "cached", "cached_from", "remote", "remote_hits")
           if k in g}
    out["files"] = len(g.get("files") or [])
    return out


def requests_summary(reqs):
    by = {}
    for r in reqs:
        by[r.method] = by.get(r.method, 0) + 1
    span = (max(r.end for r in reqs) - min(r.start for r in reqs)) if reqs else 0.0
    return {"by_method": by, "total": len(reqs),
            "connections": len({r.conn for r in reqs}),
            "max_in_flight": httpcache.max_concurrency(reqs),
            "max_open_connections": httpcache.max_open_connections(reqs),
            "span_ms": round(span * 1000, 1),
            "statuses": sorted({r.status for r in reqs})}


def summary(vals):
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals), "all": vals}


def prime_version(clone, watchd, env):
    """Leaves a ledger that knows the tool's version and nothing of the N
    files: one `watchd run` (no remote) of a file outside the set."""
    probe = os.path.join(clone, "zz_prime_%d.py" % os.getpid())
    with open(probe, "w") as f:
        f.write("PRIMED = %r\n" % time.time())
    try:
        timed([watchd, "run", os.path.basename(probe)], clone, env)
    finally:
        os.unlink(probe)


def run_case(name, clone, argv, env, remote_env, cache, rounds, prime=None):
    state = os.path.join(clone, ".watchd")
    times = {"remote": [], "local": []}
    reqs, gates, warnings = [], [], []
    for r in range(rounds):
        order = ["remote", "local"] if r % 2 == 0 else ["local", "remote"]
        for side in order:
            shutil.rmtree(state, ignore_errors=True)  # a fresh clone: no ledger
            if prime:
                prime()
            e = remote_env if side == "remote" else env
            mark = cache.mark()
            wall, _, out, err = timed(argv, clone, e)
            times[side].append(wall)
            if side == "remote":
                reqs.append(requests_summary(cache.since(mark)))
                gates.append(gate_summary(out))
                warnings.append([ln for ln in err.splitlines() if "remote cache" in ln.lower()])
        log("  %s round %d: remote %.3f s (%d requests), local %.3f s" % (
            name, r + 1, times["remote"][-1], reqs[-1]["total"], times["local"][-1]))
    res = {side: {"wall_s": summary(v)} for side, v in times.items()}
    res["ratio"] = res["remote"]["wall_s"]["median"] / res["local"]["wall_s"]["median"]
    res["requests"] = reqs
    res["gate"] = gates
    res["warnings"] = warnings
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--watchd", default=os.path.join(REPO, "watchd"))
    ap.add_argument("--files", type=int, default=int(os.environ.get("BENCH_REMOTE_FILES", 1000)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_REMOTE_ROUNDS", 5)))
    ap.add_argument("--cases",
                    default=os.environ.get("BENCH_REMOTE_CASES",
                                           "run,run-known,hook,hook-known"))
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "remote.json"))
    ap.add_argument("--tmp", default=os.environ.get("BENCH_TMP", "/tmp"))
    args = ap.parse_args()
    watchd = os.path.abspath(args.watchd)
    if httpcache.NGINX is None:
        raise SystemExit("bench: nginx is not installed (apt-get install nginx)")
    if not os.path.isdir(os.path.join(TOOLS, "node_modules", "@astral-sh")):
        raise SystemExit("bench: the Ruff stand-in's engine is missing "
                         "(scripts/install-test-tools.sh)")
    cases = [c for c in args.cases.split(",") if c]
    work = tempfile.mkdtemp(prefix="watchd-bench-remote-", dir=args.tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "WATCHD_"))}
    env["PATH"] = TOOLS + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["XDG_RUNTIME_DIR"] = work
    cache = httpcache.Nginx(os.path.join(work, "nginx"))
    results = {}
    try:
        cache.start()
        remote_env = dict(env, WATCHD_REMOTE_CACHE_URL=cache.url)
        origin = os.path.join(work, "a")
        make_origin(origin, args.files)
        log("remote: %d .py files in A; filling %s with `watchd run` (write enabled)" % (
            args.files, cache.url))
        mark = cache.mark()
        wall, _, out, err = timed([watchd, "run", "--json"], origin,
                                  dict(remote_env, WATCHD_REMOTE_CACHE_WRITE="1"))
        fill = {"wall_s": wall, "requests": requests_summary(cache.since(mark)),
                "ac_entries": len(cache.entries("ac")), "cas_entries": len(cache.entries("cas")),
                "gate": gate_summary(out)}
        log("  filled in %.3f s: %d ac, %d cas entries" % (
            wall, fill["ac_entries"], fill["cas_entries"]))
        if fill["ac_entries"] == 0:
            log("bench: the cache holds nothing after A's run: this watchd has no remote "
                "cache (or did not write); the remote side runs the tool too")
        clone = os.path.join(work, "b")
        subprocess.run(["git", "clone", "-q", origin, clone], check=True)
        if "run" in cases:
            log("run: `watchd run` in a fresh clone, warm remote vs no remote, %d rounds"
                % args.rounds)
            results["run"] = run_case("run", clone, [watchd, "run", "--json"], env,
                                      remote_env, cache, args.rounds)
        if "run-known" in cases:
            log("run-known: as run, but the clone's ledger already knows the tool's "
                "version (primed outside the timing), %d rounds" % args.rounds)
            results["run-known"] = run_case(
                "run-known", clone, [watchd, "run", "--json"], env, remote_env, cache,
                args.rounds, prime=lambda: prime_version(clone, watchd, env))
        if "hook" in cases:
            # HEAD back to the config commit, index kept: every file is staged
            # as new, with the very blobs A judged
            git(clone, "reset", "-q", "--soft", "HEAD~1")
            log("hook: `watchd check --staged` on %d staged files, cold ledger, %d rounds"
                % (args.files, args.rounds))
            results["hook"] = run_case("hook", clone, [watchd, "check", "--staged", "--json"],
                                       env, remote_env, cache, args.rounds)
        if "hook-known" in cases:
            if "hook" not in cases:
                git(clone, "reset", "-q", "--soft", "HEAD~1")
            log("hook-known: as hook, the tool's version known beforehand, %d rounds"
                % args.rounds)
            results["hook-known"] = run_case(
                "hook-known", clone, [watchd, "check", "--staged", "--json"], env, remote_env,
                cache, args.rounds, prime=lambda: prime_version(clone, watchd, env))
    finally:
        cache.kill()
        shutil.rmtree(work, ignore_errors=True)

    head = "watchd remote cache benchmark — %s" % datetime.datetime.now(
        datetime.timezone.utc).isoformat(timespec="seconds")
    print(head)
    print("machine: %s, %d cores, Linux %s; nginx on loopback; %d .py files, one ruff gate "
          "(tests/tools/ruff); %d rounds" % (
              platform.processor() or platform.machine(), os.cpu_count() or 0,
              platform.release(), args.files, args.rounds))
    print("fill (A, write): %.3f s, %s, %d ac / %d cas entries" % (
        fill["wall_s"], fill["requests"]["by_method"], fill["ac_entries"], fill["cas_entries"]))
    print()
    print("%-10s  %-24s  %-24s  %-7s  %-22s  %-6s  %-6s  %-8s  %-9s  %s" % (
        "case", "remote ms median (range)", "local ms median (range)", "time x",
        "requests (median run)", "conns", "busy", "span ms", "hits", "target"))
    for name, res in results.items():
        mid = sorted(res["requests"], key=lambda q: q["total"])[len(res["requests"]) // 2]
        hits = [g.get("remote_hits", 0) if g else 0 for g in res["gate"]]
        rm, lo = res["remote"]["wall_s"], res["local"]["wall_s"]
        print("%-10s  %-24s  %-24s  %-7.3f  %-22s  %-6d  %-6d  %-8.1f  %-9s  %s" % (
            name,
            "%.0f (%.0f-%.0f)" % (rm["median"] * 1e3, rm["min"] * 1e3, rm["max"] * 1e3),
            "%.0f (%.0f-%.0f)" % (lo["median"] * 1e3, lo["min"] * 1e3, lo["max"] * 1e3),
            res["ratio"], " ".join("%s %d" % kv for kv in sorted(mid["by_method"].items()))
            or "none", mid["connections"], mid["max_open_connections"], mid["span_ms"],
            "%d/%d" % (min(hits), args.files),
            "<= %.1fx: %s" % (TARGET, "yes" if res["ratio"] <= TARGET else "NO")))
        warned = [w for w in res["warnings"] if w]
        if warned:
            print("      warnings in %d of %d remote rounds, e.g.: %s" % (
                len(warned), len(res["warnings"]), warned[0][0]))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"date": head, "files": args.files, "rounds": args.rounds, "target": TARGET,
                   "nginx": httpcache.NGINX, "fill": fill, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
