"""The daemon as a user drives it: start, edit files, status --sync, stop."""
import os
import re
import shutil
import stat
import subprocess
import sys
import time

import pytest

from conftest import (ULID_RE, needs_watchd, pid_alive, track_daemon, wait_until,
                      write_config)

pytestmark = needs_watchd

UNQUOTED = "#!/bin/sh\necho $1\n"
CLEAN = '#!/bin/sh\necho "$1"\n'


def synced(watchd):
    """status --sync --json: the daemon's state once every earlier change is gated."""
    r = watchd("status", "--sync", "--json", timeout=60)
    assert r.rc in (0, 1), str(r)  # 1: a gate fails
    assert r.json["running"] is True
    return r.json


def gate_state(st, name):
    found = [g for g in st["gates"] if g["name"] == name]
    return found[0] if found else None


def test_status_right_after_start(daemon, watchd, repo, runtime_dir):
    st = daemon.status
    assert st["running"] is True
    assert isinstance(st["pid"], int) and pid_alive(st["pid"])
    assert os.path.realpath(st["root"]) == os.path.realpath(repo)
    sock = st["socket"]
    assert sock.startswith(os.path.join(runtime_dir, "watchd") + "/")
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o700
    assert isinstance(st["uptime_s"], (int, float)) and st["uptime_s"] >= 0
    w = st["watch"]
    assert w["backend"] == "inotify"
    assert isinstance(w["dirs"], int) and w["dirs"] >= 1
    assert w["degraded"] is False
    assert isinstance(w["rescans"], int)
    q = st["queue"]
    assert isinstance(q["pending_files"], int) and isinstance(q["running_gates"], int)
    assert "last_run" in st
    assert isinstance(st["gates"], list)
    assert (repo / ".watchd" / "ledger.db").exists()
    assert (repo / ".watchd" / ".gitignore").read_text().strip() == "*"


def test_start_returns_once_watching(daemon, watchd, repo):
    """A change made right after start returns is seen: no window."""
    (repo / "bad.sh").write_text(UNQUOTED)
    st = synced(watchd)
    g = gate_state(st, "shellcheck")
    assert g and g["status"] == "fail", st
    assert g["failing_files"] == 1 and g["findings"] >= 1


def test_second_start_fails_naming_the_first_pid(daemon, watchd):
    r = watchd("start")
    assert r.rc != 0, str(r)
    assert re.search(r"\b%d\b" % daemon.pid, r.stderr), str(r)
    assert pid_alive(daemon.pid)
    assert watchd("status", "--json").json["pid"] == daemon.pid


LOCK_HOLDER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, b"%s\n" % sys.argv[2].encode())
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
"""


def hold_lock(repo, pid, seconds):
    """A process holding ROOT's daemon lock, with pid written in it (as a
    daemon writes its own), for seconds."""
    os.makedirs(repo / ".watchd", exist_ok=True)
    lock = str(repo / ".watchd" / "daemon.lock")
    p = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, lock, str(pid), str(seconds)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_start_waits_for_a_dead_daemons_lock(repo, watchd):
    """kill -9 then start at once: the dead daemon's last threads may still
    hold the lock for a moment after its pid turned zombie. start waits
    for a lock whose pid is gone or a zombie, and only for such a one."""
    write_config(repo, [])
    zombie = subprocess.Popen(["true"])
    wait_until(lambda: not pid_alive(zombie.pid), 10, what="a zombie")
    holder = hold_lock(repo, zombie.pid, 0.5)
    try:
        r = watchd("start")
        assert r.rc == 0, str(r)
        st = watchd("status", "--json").json
        track_daemon(st["pid"])
        assert watchd("stop").rc == 0
    finally:
        holder.kill()
        holder.wait()
        zombie.wait()
    live = subprocess.Popen(["sleep", "30"])
    holder = hold_lock(repo, live.pid, 30)
    try:
        t0 = time.monotonic()
        r = watchd("start")
        assert r.rc != 0 and re.search(r"\b%d\b" % live.pid, r.stderr), str(r)
        assert time.monotonic() - t0 < 1.5
    finally:
        for p in (holder, live):
            p.kill()
            p.wait()


def test_removed_runtime_dir_does_not_let_a_second_daemon_in(daemon, watchd, runtime_dir):
    """Issue 16, point 5: a tmp cleaner removes the runtime directory, socket
    and all. The lock lives in ROOT/.watchd/, so a second start is refused
    naming the first pid, and the first daemon's socket comes back."""
    sock = daemon.status["socket"]
    gone = os.path.join(runtime_dir, "watchd")

    def cleaned():
        # the daemon may bind its socket again between the cleaner's
        # unlink of it and its rmdir of the directory: clean until gone,
        # as a cleaner that runs again would
        shutil.rmtree(gone, ignore_errors=True)
        return not os.path.exists(gone)
    wait_until(cleaned, 10, what="the runtime directory to be removed")
    r = watchd("start")
    assert r.rc != 0, str(r)
    assert re.search(r"\b%d\b" % daemon.pid, r.stderr), str(r)
    wait_until(lambda: os.path.exists(sock), 10, what="the first daemon's socket to come back")
    st = watchd("status", "--json")
    assert st.rc in (0, 1) and st.json["pid"] == daemon.pid, str(st)
    assert st.json["socket"] == sock
    # and it can still be stopped through it
    assert watchd("stop").rc == 0
    wait_until(lambda: not pid_alive(daemon.pid), 15, what="the daemon to exit")
    assert not os.path.exists(sock)


def test_socket_unlinked_alone_comes_back(daemon, watchd):
    sock = daemon.status["socket"]
    os.unlink(sock)
    wait_until(lambda: os.path.exists(sock), 10, what="the socket to be recreated")
    assert watchd("status", "--json").json["pid"] == daemon.pid


def test_bind_mount_of_the_tree_is_refused(daemon, watchd, tmp_path):
    """The same tree reached by another path shares ROOT/.watchd/daemon.lock
    (an flock follows the inode): its start is refused."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    m = subprocess.run(["mount", "--bind", str(daemon.root), str(mnt)], capture_output=True,
                       text=True)
    if m.returncode != 0:
        pytest.skip(f"mount --bind not allowed here: {m.stderr.strip()}")
    try:
        r = watchd("--root", str(mnt), "start")
        assert r.rc != 0, str(r)
        assert re.search(r"\b%d\b" % daemon.pid, r.stderr), str(r)
        assert pid_alive(daemon.pid)
        assert watchd("status", "--json").json["pid"] == daemon.pid
    finally:
        watchd("--root", str(mnt), "stop", check_sanitizers=False)
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_speedups_turned_off_still_watch(repo, watchd):
    """make bench times each speed-up against the daemon without it
    (WATCHD_BENCH_WITHOUT): that daemon must still see everything."""
    write_config(repo, [{"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
                         "command": ["shellcheck", "-f", "gcc", "{files}"],
                         "parser": "gcc"}])
    (repo / "sub" / "deeper").mkdir(parents=True)
    (repo / "sub" / "deeper" / "ok.sh").write_text(CLEAN)
    off = "ledger-thread,getdents"
    r = watchd("start", env_extra={"WATCHD_BENCH_WITHOUT": off})
    assert r.rc == 0, str(r)
    st = watchd("status", "--json").json
    track_daemon(st["pid"])
    try:
        assert st["watch"]["dirs"] >= 3, st["watch"]
        (repo / "sub" / "deeper" / "bad.sh").write_text(UNQUOTED)
        st = synced(watchd)
        g = gate_state(st, "shellcheck")
        assert g and g["status"] == "fail" and g["failing_files"] == 1, st
    finally:
        assert watchd("stop").rc == 0


def test_edit_then_sync_reflects_it(daemon, watchd, repo):
    (repo / "sub").mkdir()
    (repo / "sub" / "a.sh").write_text(UNQUOTED)
    st = synced(watchd)
    g = gate_state(st, "shellcheck")
    assert g["status"] == "fail"
    last = st["last_run"]
    assert ULID_RE.match(last["id"]) and last["status"] == "fail" and last["finished_at"]
    assert st["queue"]["pending_files"] == 0 and st["queue"]["running_gates"] == 0

    log = watchd("log", "--json")
    assert log.rc == 0, str(log)
    runs = [x for x in log.json if x["trigger"] == "watch"]
    assert runs and runs[0]["id"] == last["id"]
    [gr] = [x for x in runs[0]["gates"] if x["name"] == "shellcheck"]
    assert gr["files"] == ["sub/a.sh"]
    shown = watchd("show", last["id"], "--json").json
    [gr] = [x for x in shown["gates"] if x["name"] == "shellcheck"]
    assert [(f["path"], f["line"], f["col"], f["code"]) for f in gr["findings"]
            if f["code"] == "SC2086"] == [("sub/a.sh", 2, 6, "SC2086")]

    # fix it: the gate goes green with a newer run
    (repo / "sub" / "a.sh").write_text(CLEAN)
    st2 = synced(watchd)
    assert gate_state(st2, "shellcheck")["status"] == "pass"
    assert st2["last_run"]["id"] > last["id"] and st2["last_run"]["status"] == "pass"


def test_new_directory_is_watched(daemon, watchd, repo):
    deep = repo / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "x.sh").write_text(UNQUOTED)
    st = synced(watchd)
    assert gate_state(st, "shellcheck")["status"] == "fail"
    assert st["watch"]["dirs"] >= 4


def test_files_outside_the_gates_run_nothing(daemon, watchd, repo):
    (repo / "notes.txt").write_text("hello\n")
    st = synced(watchd)
    assert st["last_run"] is None
    assert watchd("log", "--json").json == []


def test_stop_then_status(daemon, watchd, repo):
    (repo / "bad.sh").write_text(UNQUOTED)
    before = synced(watchd)
    r = watchd("stop")
    assert r.rc == 0, str(r)
    assert not pid_alive(daemon.pid), "stop returned before the daemon exited"
    st = watchd("status")
    assert st.rc == 3, str(st)
    assert "not running" in st.stdout + st.stderr
    assert "shellcheck" in st.stdout and "fail" in st.stdout  # the ledger's last results
    js = watchd("status", "--json")
    assert js.rc == 3
    assert js.json["running"] is False
    assert js.json["last_run"]["id"] == before["last_run"]["id"]
    assert gate_state(js.json, "shellcheck")["status"] == "fail"
    assert not os.path.exists(before["socket"])
    assert watchd("stop").rc == 3


def test_status_without_daemon(repo, watchd):
    write_config(repo, [])
    r = watchd("status", "--json")
    assert r.rc == 3, str(r)
    assert r.json["running"] is False
    r = watchd("status")
    assert r.rc == 3 and "not running" in r.stdout + r.stderr
    assert watchd("stop").rc == 3


def test_start_with_a_bad_config_exits_2(repo, watchd):
    write_config(repo, [{"name": "x", "type": "nope", "include": ["*"]}])
    r = watchd("start")
    assert r.rc == 2, str(r)
    assert "gates[0].type" in r.stderr
    js = watchd("status", "--json")
    assert js.json["running"] is False


def test_start_from_a_subdirectory(repo, watchd):
    write_config(repo, [])
    sub = repo / "deep" / "er"
    sub.mkdir(parents=True)
    r = watchd("start", cwd=sub)
    assert r.rc == 0, str(r)
    st = watchd("status", "--json", cwd=sub).json
    track_daemon(st["pid"])
    assert os.path.realpath(st["root"]) == os.path.realpath(repo)
    assert watchd("stop").rc == 0
    wait_until(lambda: not pid_alive(st["pid"]), timeout=10, what="daemon exit")


@pytest.fixture
def daemon_config():
    return {"gates": [
        {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
         "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc", "timeout_s": 60},
    ], "debounce_ms": 50, "stability_ms": 20, "ignore": ["vendor/**"]}


def test_ignored_and_git_paths_do_not_trigger(daemon, watchd, repo):
    (repo / "vendor").mkdir()
    (repo / "vendor" / "bad.sh").write_text(UNQUOTED)
    (repo / ".git" / "hooks" / "bad.sh").write_text(UNQUOTED)
    st = synced(watchd)
    assert st["last_run"] is None, st
