"""No file blocks the loop (issue 16, point 2): a 3 GB sparse file matched
by a gate is hashed off the loop thread, so `status` answers in under a
second throughout and `stop` ends the daemon promptly mid-hash."""
import json
import os
import socket
import time

from conftest import pid_alive, track_daemon, wait_until, write_config

SIZE = int(float(os.environ.get("WATCHD_TEST_SPARSE_GB", "3")) * (1 << 30))
WATCH_S = 3.0	# how long status is asked while the file is being hashed


def ask(path, timeout=120.0):
    t0 = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b'{"cmd":"status"}\n')
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return time.monotonic() - t0, json.loads(data)


def test_sparse_file_hashed_off_the_loop(repo, watchd):
    write_config(repo, [{"name": "big", "type": "command", "include": ["**/*.dat"],
                         "command": ["true", "{files}"]}],
                 debounce_ms=50, stability_ms=20)
    r = watchd("start")
    assert r.rc == 0, str(r)
    st = watchd("status", "--json").json
    pid, sock = st["pid"], st["socket"]
    track_daemon(pid)
    with open(repo / "big.dat", "wb") as f:
        f.truncate(SIZE)
    worst, seen_running = 0.0, False
    end = time.monotonic() + 60
    # until its gate runs (the hashing), then WATCH_S more seconds of it
    while time.monotonic() < end:
        dt, st = ask(sock)
        worst = max(worst, dt)
        assert worst < 1.0, (worst, st)
        if st["queue"]["running_gates"] > 0 and not seen_running:
            seen_running = True
            end = time.monotonic() + WATCH_S
        if seen_running and st["queue"]["running_gates"] == 0:
            break	# a fast machine: hashed already
    assert seen_running, "the gate never ran on big.dat"
    assert worst < 1.0, worst
    # stop while it hashes (again, if it was done): prompt, not after the hash
    with open(repo / "big.dat", "r+b") as f:
        f.truncate(SIZE + 1)
    wait_until(lambda: ask(sock)[1]["queue"]["running_gates"] > 0, timeout=30,
               what="the gate running on the changed big.dat")
    t0 = time.monotonic()
    r = watchd("stop", timeout=30)
    took = time.monotonic() - t0
    assert r.rc == 0, str(r)
    assert not pid_alive(pid)
    assert took < 5.0, took


def test_unread_file_is_keyed_by_stamp(repo, watchd):
    """A gate run without file names (a task runner) never reads a file's
    bytes: one past 16 MiB is keyed by its stamp, so a 16 GB sparse file
    (16 s of hashing at 1 GB/s) is judged at once, and a touch re-runs it."""
    write_config(repo, [{"name": "task", "type": "command", "include": ["**/*.dat"],
                         "command": ["true"]}],
                 debounce_ms=50, stability_ms=20)
    r = watchd("start")
    assert r.rc == 0, str(r)
    track_daemon(watchd("status", "--json").json["pid"])

    def runs():
        r = watchd("log", "--json", "--limit", "100")
        assert r.rc == 0, str(r)
        return [x for x in r.json if x["trigger"] == "watch" and x.get("finished_at")]

    with open(repo / "huge.dat", "wb") as f:
        f.truncate(16 << 30)
    wait_until(lambda: len(runs()) >= 1, timeout=8, what="the task gate judged huge.dat")
    os.utime(repo / "huge.dat", (1000, 1000))
    wait_until(lambda: len(runs()) >= 2, timeout=8, what="a touch re-runs it")
    r = watchd("stop", timeout=30)
    assert r.rc == 0, str(r)
