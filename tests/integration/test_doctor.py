"""`watchd doctor [--json]`: one line per check (ok/info/warn/fail, what was
found, and a fix when something is wrong), on real git repositories, real
tools on PATH, a real SQLite ledger, a real socket directory and a real
daemon. Exit 0 unless a check fails. The inotify limits cannot be lowered
without root, so their arithmetic is unit-tested (test-inotify-budget.c) and
here the lines are checked for being there, with this tree's count."""
import contextlib
import os
import re
import sqlite3
import stat
import time

from conftest import commit_all, git, write_config

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}
RUFF = {"name": "ruff", "type": "ruff", "include": ["**/*.py"]}
PSSA = {"name": "pssa", "type": "psscriptanalyzer", "include": ["**/*.ps1"]}
STATUSES = {"ok", "info", "warn", "fail"}


def checks(res):
    assert isinstance(res.json, dict), str(res)
    assert set(res.json) == {"ok", "checks"}, res.json
    for c in res.json["checks"]:
        assert set(c) == {"name", "status", "detail", "fix"}, c
        assert c["status"] in STATUSES, c
        # a check that is not well says how to fix it
        if c["status"] in ("warn", "fail"):
            assert c["fix"], c
    return {c["name"]: c for c in res.json["checks"]}


def line_of(res, name):
    found = [ln for ln in res.stdout.splitlines() if re.match(r"^\w+ +" + re.escape(name) + ": ",
                                                            ln)]
    assert len(found) == 1, f"no single line for {name}:\n{res.stdout}"
    return found[0]


def test_healthy_tree(repo, watchd):
    write_config(repo, [SHELLCHECK, RUFF, PSSA])
    commit_all(repo)
    r = watchd("doctor")
    assert r.rc == 0, str(r)
    assert r.stdout.rstrip().endswith("doctor: all well") or "no problems" in r.stdout, r.stdout
    j = watchd("doctor", "--json")
    assert j.rc == 0, str(j)
    assert j.json["ok"] is True
    by = checks(j)
    for name in ("inotify-watches", "inotify-instances", "config", "gate shellcheck",
                 "gate ruff", "gate pssa", "ledger", "socket-dir", "hook pre-commit", "daemon"):
        assert name in by, (name, list(by))
    assert all(c["status"] in ("ok", "info") for c in by.values()), by
    # the version each gate's own probe reports (the stand-ins' versions)
    assert re.search(r"^ruff found at /\S+/ruff, version: ruff \d", by["gate ruff"]["detail"])
    assert re.search(r"^pwsh found at /\S+/pwsh, psscriptanalyzer version: 1\.25\.0$",
                     by["gate pssa"]["detail"]), by["gate pssa"]
    assert "found at" in by["gate shellcheck"]["detail"]
    assert by["config"]["status"] == "ok" and "3 gates" in by["config"]["detail"]
    # nothing created: no ledger, no socket dir, no daemon, no hook yet
    assert by["ledger"]["status"] == "info" and "not created yet" in by["ledger"]["detail"]
    assert by["daemon"]["status"] == "info" and by["daemon"]["fix"] == "watchd start"
    assert by["hook pre-commit"]["status"] == "info"
    assert by["hook pre-commit"]["fix"] == "watchd hook install"
    assert not (repo / ".watchd" / "ledger.db").exists()


def test_missing_tool_names_the_install_hint(repo, watchd, env):
    lint = dict(SHELLCHECK, name="lint", command=["no-such-linter-4711", "{files}"])
    write_config(repo, [lint, RUFF])
    # PATH without ruff (neither the stand-in nor a real one)
    path = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                           if p and not os.path.exists(os.path.join(p, "ruff")))
    r = watchd("doctor", env_extra={"PATH": path})
    assert r.rc == 1, str(r)
    ln = line_of(r, "gate ruff")
    assert ln.startswith("fail ") and "ruff not found on PATH" in ln
    assert "fix: pip install ruff" in ln
    ln = line_of(r, "gate lint")
    assert ln.startswith("fail ") and "no-such-linter-4711 not found on PATH" in ln
    assert 'fix: install it, or fix "command" in the gate' in ln
    assert "problem" in r.stdout.splitlines()[-1]
    j = watchd("doctor", "--json", env_extra={"PATH": path})
    assert j.rc == 1 and j.json["ok"] is False


def test_broken_config_names_file_line_and_key(repo, watchd):
    cfg = repo / "watch.config.json"
    cfg.write_text('{\n  "version": 1,\n  "gates": [\n    {"name": "x", "type": "command",\n'
                   '     "include": "**/*.sh", "command": ["true"]}\n  ]\n}\n')
    r = watchd("doctor", "--json")
    assert r.rc == 1, str(r)
    by = checks(r)
    c = by["config"]
    assert c["status"] == "fail"
    assert re.search(re.escape(str(cfg)) + r":5:\d+: gates\[0\]\.include", c["detail"]), c
    assert "watchd config check" in c["fix"]
    # the rest still runs: limits (without the config's ignore list), ledger, ...
    assert by["gates"]["status"] == "info"
    assert "ignore list was not applied" in by["inotify-watches"]["detail"]
    assert {"ledger", "socket-dir", "daemon"} <= set(by)


def test_missing_config_suggests_init(repo, watchd):
    r = watchd("doctor")
    assert r.rc == 1, str(r)
    ln = line_of(r, "config")
    assert ln.startswith("fail ") and "no such file" in ln and "fix: watchd init" in ln


def test_ledger_ok_then_garbage_then_damaged_pages(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "a.sh").write_text('#!/bin/sh\necho "$1"\n')
    commit_all(repo)
    assert watchd("run").rc == 0
    db = repo / ".watchd" / "ledger.db"
    by = checks(watchd("doctor", "--json"))
    assert by["ledger"]["status"] == "ok", by["ledger"]
    assert re.search(r"quick_check ok, \d+ (bytes|KiB), schema \d+ \(current\)",
                     by["ledger"]["detail"]), by["ledger"]
    good = db.read_bytes()

    # every page of the file garbage: not a database at all
    db.write_bytes(os.urandom(len(good)))
    r = watchd("doctor", "--json")
    assert r.rc == 1, str(r)
    c = checks(r)["ledger"]
    assert c["status"] == "fail" and str(db) in c["detail"], c
    assert "mv " in c["fix"]

    # the header and the schema's pages intact (page 1 and, once the schema
    # outgrows it, the leaves dbstat names), every other page garbage:
    # PRAGMA quick_check finds it
    page = int.from_bytes(good[16:18], "big")   # the page size (1 stands for 65536)
    page = 65536 if page == 1 else page
    assert len(good) > page, "the ledger should have more than one page"
    db.write_bytes(good)
    with contextlib.closing(sqlite3.connect(db)) as con:
        keep = {r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema'")}
    assert 1 in keep and len(keep) * page < len(good), keep
    db.write_bytes(b"".join(
        good[(n - 1) * page:n * page] if n in keep else
        bytes((i * 37 + n) % 256 for i in range(page))
        for n in range(1, len(good) // page + 1)))
    r = watchd("doctor", "--json")
    assert r.rc == 1, str(r)
    c = checks(r)["ledger"]
    assert c["status"] == "fail", c
    assert "is damaged (PRAGMA quick_check)" in c["detail"], c
    assert "\n" not in c["detail"], c   # SQLite's lines, on one line
    # doctor only reads: the damaged file is left as it was
    assert db.read_bytes()[:page] == good[:page]


def test_socket_dir_open_to_everyone(repo, watchd, runtime_dir):
    write_config(repo, [SHELLCHECK])
    sockdir = os.path.join(runtime_dir, "watchd")
    os.mkdir(sockdir)
    os.chmod(sockdir, 0o777)
    r = watchd("doctor", "--json")
    assert r.rc == 1, str(r)
    c = checks(r)["socket-dir"]
    assert c["status"] == "fail" and "mode 0777" in c["detail"], c
    assert c["fix"] == f"chmod 700 {sockdir}"
    os.chmod(sockdir, 0o700)
    c = checks(watchd("doctor", "--json"))["socket-dir"]
    assert c["status"] == "ok" and "mode 0700" in c["detail"], c


def test_inotify_lines_count_the_watched_directories(repo, watchd):
    # 3 watched directories besides ROOT; build/ (config "ignore") and
    # node_modules/ (.gitignore) are never watched, nor is .git's content
    for d in ("src/a", "src/b", "build/x/y", "node_modules/p/q"):
        (repo / d).mkdir(parents=True)
        (repo / d / "f.txt").write_text("x\n")
    (repo / ".gitignore").write_text("node_modules/\n")
    write_config(repo, [SHELLCHECK], ignore=["build/**"])
    r = watchd("doctor")
    ln = line_of(r, "inotify-watches")
    assert re.search(r"this tree needs \d+ watches \(4 directories", ln), ln
    assert "fs.inotify.max_user_watches=" in ln and "left" in ln
    ln = line_of(r, "inotify-instances")
    assert "fs.inotify.max_user_instances=" in ln and "needs 1 instance" in ln


def test_json_matches_text(repo, watchd, runtime_dir):
    write_config(repo, [SHELLCHECK, dict(SHELLCHECK, name="gone", command=["gone-4711"])])
    os.mkdir(os.path.join(runtime_dir, "watchd"), 0o755)
    os.chmod(os.path.join(runtime_dir, "watchd"), 0o755)
    t = watchd("doctor")
    j = watchd("doctor", "--json")
    assert t.rc == j.rc == 1
    lines = t.stdout.splitlines()
    summary = lines.pop()
    assert summary.startswith("doctor: ")
    want = []
    for c in checks(j).values():
        s = f"{c['status']:<5} {c['name']}: {c['detail']}"
        if c["fix"]:
            s += f"; fix: {c['fix']}"
        want.append(s)
    # what other processes hold of the inotify limits moves between runs
    def mask(s):
        return re.sub(r"\d+", "N", s)
    assert [mask(x) for x in lines] == [mask(x) for x in want]
    assert [x for x in lines if not x.split()[1].startswith("inotify")] == \
        [x for x in want if not x.split()[1].startswith("inotify")]


def test_running_daemon_is_pinged(daemon, watchd):
    by = checks(watchd("doctor", "--json"))
    c = by["daemon"]
    assert c["status"] == "ok" and f"pid {daemon.pid}" in c["detail"], c
    # its own watches are already held: not counted against what is left
    assert "the running daemon's not counted" in by["inotify-watches"]["detail"]
    assert by["socket-dir"]["status"] == "ok"


def test_hook_states(repo, watchd, env):
    write_config(repo, [SHELLCHECK])
    commit_all(repo)
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    # someone else's hook
    (hooks / "pre-commit").write_text("#!/bin/sh\necho theirs\n")
    (hooks / "pre-commit").chmod(0o755)
    c = checks(watchd("doctor", "--json"))["hook pre-commit"]
    assert c["status"] == "info" and "not watchd's" in c["detail"], c
    assert "--force" in c["fix"]
    # ours, keeping theirs beside it
    assert watchd("hook", "install", "--force").rc == 0
    r = watchd("doctor", "--json")
    c = checks(r)["hook pre-commit"]
    assert c["status"] == "ok", c
    assert "installed" in c["detail"] and "pre-commit.local" in c["detail"], c
    exe = re.search(r"runs (/[^;,]+)", c["detail"])
    assert exe and os.access(exe.group(1), os.X_OK), c
    # a hook that points at a binary that is gone, with no watchd on PATH
    # to fall back to
    text = (hooks / "pre-commit").read_text()
    m = re.search(r"^watchd=(.*)$", text, re.M)
    assert m, text
    (hooks / "pre-commit").write_text(text.replace(m.group(0), "watchd='/nonexistent/watchd'"))
    path = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                           if p and not os.path.exists(os.path.join(p, "watchd")))
    r = watchd("doctor", "--json", env_extra={"PATH": path})
    assert r.rc == 1, str(r)
    c = checks(r)["hook pre-commit"]
    assert c["status"] == "fail" and "/nonexistent/watchd, which does not exist" in c["detail"]
    assert "watchd hook install" in c["fix"]
    # not executable: git skips it
    (hooks / "pre-commit").write_text(text)
    (hooks / "pre-commit").chmod(0o644)
    c = checks(watchd("doctor", "--json"))["hook pre-commit"]
    assert c["status"] == "fail" and "not executable" in c["detail"], c


def test_chained_hook_is_reported(repo, watchd):
    """A hook of ours that runs an earlier one (pre-commit.local): found by
    reading our hook, whatever its exact wording."""
    write_config(repo, [SHELLCHECK])
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    assert watchd("hook", "install").rc == 0
    text = (hooks / "pre-commit").read_text()
    chained = text.replace("exec ", '[ -x "$(dirname "$0")/pre-commit.local" ] && '
                           '"$(dirname "$0")/pre-commit.local" "$@" || exit $?\nexec ', 1)
    (hooks / "pre-commit").write_text(chained)
    (hooks / "pre-commit.local").write_text("#!/bin/sh\nexit 0\n")
    (hooks / "pre-commit.local").chmod(0o755)
    c = checks(watchd("doctor", "--json"))["hook pre-commit"]
    assert c["status"] == "ok" and "chained: also runs pre-commit.local" in c["detail"], c
    (hooks / "pre-commit.local").chmod(0o644)
    c = checks(watchd("doctor", "--json"))["hook pre-commit"]
    assert c["status"] == "warn" and "pre-commit.local is not executable" in c["detail"], c
    assert c["fix"]


def test_hanging_tool_cannot_hang_doctor(repo, watchd):
    write_config(repo, [PSSA])
    t0 = time.monotonic()
    r = watchd("doctor", "--json", timeout=60,
               env_extra={"FAKE_PWSH_HANG": "1", "WATCHD_TEST_PROBE_TIMEOUT_S": "1"})
    took = time.monotonic() - t0
    c = checks(r)["gate pssa"]
    assert c["status"] == "warn" and "did not answer within 1 s" in c["detail"], c
    assert r.rc == 0, str(r)   # a warning, not a failure
    assert took < 30, took
    # the probe's process group was killed: no fake pwsh left sleeping
    left = [p for p in os.listdir("/proc") if p.isdigit() and _cmd(p).startswith(b"/usr/bin/python3")
            and b"pwsh" in _cmd(p) and str(repo).encode() in _cwd(p)]
    assert not left, left


def _cmd(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _cwd(pid):
    try:
        return os.readlink(f"/proc/{pid}/cwd").encode()
    except OSError:
        return b""


def test_help_and_usage(repo, watchd):
    r = watchd("doctor", "--help")
    assert r.rc == 0 and "watchd doctor [--json]" in r.stdout
    r = watchd("doctor", "extra")
    assert r.rc == 2
    assert stat.S_ISDIR(os.stat(repo).st_mode)
    assert git(repo, "status", "--porcelain") == ""


def test_foreign_commit_msg_hook_is_none_of_our_business(repo, watchd):
    write_config(repo, [])
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "commit-msg").write_text("#!/bin/sh\n# Gerrit's Change-Id\n")
    (hooks / "commit-msg").chmod(0o755)
    r = watchd("doctor", "--json")
    assert r.rc == 0, str(r)
    by = checks(r)
    assert "hook commit-msg" not in by
    assert by["gates"]["status"] == "info" and "no gates" in by["gates"]["detail"]


def test_linked_worktree_uses_the_common_hooks(repo, watchd, tmp_path):
    """git runs a linked worktree's hooks from the common git directory, so
    that is where `hook install` writes and where doctor looks."""
    write_config(repo, [SHELLCHECK])
    commit_all(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "side")
    hooks = git(wt, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip()
    assert watchd("hook", "install", cwd=wt).rc == 0
    assert os.path.exists(os.path.join(hooks, "pre-commit"))
    c = checks(watchd("doctor", "--json", cwd=wt))["hook pre-commit"]
    assert c["status"] == "ok" and os.path.join(hooks, "pre-commit") in c["detail"], c
