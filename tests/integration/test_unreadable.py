"""A directory that cannot be read when the daemon starts (mode 000, for a
user who is not root) is never silently lost: it counts as unwatched in
`status` (degraded, with the reason), the log warns about it, and once
`chmod` makes it readable (its parent sees IN_ATTRIB) it is watched and
scanned, and its files are judged. Runs as `nobody` when the tests run as
root (root reads everything), on a tree that user owns."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import WATCHD, base_env, wait_until

GATE = {"name": "t", "type": "command", "include": ["**/*.txt"],
        "command": ["true", "{files}"], "parser": "exit"}


@pytest.fixture
def as_user():
    """(run(*args) -> CompletedProcess, tree) for a non-root user."""
    top = tempfile.mkdtemp(prefix="wdunr", dir="/tmp")
    os.chmod(top, 0o755)
    tree, rt = os.path.join(top, "tree"), os.path.join(top, "run")
    os.mkdir(tree)
    os.mkdir(rt, 0o700)
    prefix = []
    if os.getuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv not installed")
        import pwd
        nobody = pwd.getpwnam("nobody")
        for d in (top, tree, rt):
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
        prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                  "--clear-groups"]
        if not os.access(str(WATCHD), os.X_OK):
            pytest.skip("the binary is not reachable by nobody")
    env = base_env(rt)
    env["HOME"] = top

    def run(*args, timeout=60):
        return subprocess.run(prefix + [str(WATCHD), "--root", tree, *args], env=env,
                              capture_output=True, text=True, timeout=timeout, cwd="/")

    def mkfile(rel, text, mode=None):
        p = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        if prefix:
            for q in (os.path.dirname(p), p):
                os.chown(q, nobody.pw_uid, nobody.pw_gid)

    run.mkfile = mkfile
    yield run, tree
    run("stop", timeout=30)
    subprocess.run(["chmod", "-R", "u+rwx", top])
    shutil.rmtree(top, ignore_errors=True)


def status(run):
    r = run("status", "--json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_unreadable_directory_is_counted_warned_and_retried(as_user):
    run, tree = as_user
    run.mkfile("watch.config.json", json.dumps({"version": 1, "debounce_ms": 30,
                                                 "stability_ms": 10, "gates": [GATE]}))
    run.mkfile("locked/a.txt", "a\n")
    run.mkfile("locked/deep/b.txt", "b\n")
    os.chmod(os.path.join(tree, "locked"), 0o000)
    r = run("start")
    assert r.returncode == 0, r.stderr
    assert "cannot be read" in r.stderr  # the starter says it too
    st = status(run)
    assert st["watch"]["degraded"] is True, st
    assert st["watch"]["unwatched_dirs"] == 1
    assert "locked" in st["watch"]["degraded_reason"]
    log = open(os.path.join(tree, ".watchd", "watchd.log")).read()
    assert "cannot read directory locked" in log

    os.chmod(os.path.join(tree, "locked"), 0o755)  # IN_ATTRIB on the parent's watch
    st = wait_until(lambda: (lambda s: s if not s["watch"]["degraded"] else None)(status(run)),
                    timeout=20, what="leaving degraded mode after chmod")
    assert st["watch"]["unwatched_dirs"] == 0 and st["watch"]["dirs"] == 3, st
    run.mkfile("locked/deep/c.txt", "c\n")  # watched now, at depth too
    r = run("status", "--sync", "--json")
    assert r.returncode == 0, r.stderr
    runs = json.loads(run("log", "--json").stdout)
    judged = {f for x in runs for g in x["gates"] for f in g.get("files", [])}
    if not judged:  # log may leave files out: ask each run
        for x in runs:
            shown = json.loads(run("show", x["id"], "--json").stdout)
            judged |= {f for g in shown["gates"] for f in g.get("files", [])}
    assert {"locked/a.txt", "locked/deep/b.txt", "locked/deep/c.txt"} <= judged, judged


def test_unreadable_directory_is_retried_by_the_poll(as_user):
    """chmod is not the only way in: a directory made readable by a change
    its parent cannot see (an ACL on a bind mount, say) is found by the
    degraded poll. Played here by chmod on the directory after its parent
    stopped listening for attributes: the poll finds it within its period."""
    run, tree = as_user
    run.mkfile("watch.config.json", json.dumps({"version": 1, "debounce_ms": 30,
                                                 "gates": [GATE]}))
    run.mkfile("sub/locked/a.txt", "a\n")
    os.chmod(os.path.join(tree, "sub", "locked"), 0o000)
    assert run("start").returncode == 0
    assert status(run)["watch"]["unwatched_dirs"] == 1
    os.chmod(os.path.join(tree, "sub", "locked"), 0o755)
    wait_until(lambda: status(run)["watch"]["unwatched_dirs"] == 0, timeout=30,
               what="the directory watched again")
