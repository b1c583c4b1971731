"""A client cannot stall the daemon or grow its memory (issue 16, point 1):
one that pipelines requests and never reads its replies, and one that
sends at full speed, while a second client's `status` must answer in
under a second and the daemon's RSS stay within a few MiB of its start."""
import json
import os
import select
import socket
import threading
import time

import pytest

from conftest import track_daemon, wait_until, write_config

STATUS = b'{"cmd":"status"}\n'
# The daemon closes a connection whose replies stay unread this long
# (10 s by default); shorter here so the drop is seen quickly.
STALL_MS = 1500
# How long the full-speed client sends (the probe: 15 s).
FLOOD_S = float(os.environ.get("WATCHD_TEST_FLOOD_SECONDS", "5"))
RSS_SLACK_KIB = 4 * 1024


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def ask(path, timeout=10.0):
    """One status request on a fresh connection: (seconds, reply)."""
    t0 = time.monotonic()
    with connect(path) as s:
        s.settimeout(timeout)
        s.sendall(STATUS)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return time.monotonic() - t0, json.loads(data)


def hung_up(s):
    p = select.poll()
    p.register(s, select.POLLHUP)
    return any(ev & select.POLLHUP for _, ev in p.poll(0))


@pytest.fixture
def served(repo, watchd):
    """A daemon with the stall deadline shortened; (pid, socket path)."""
    write_config(repo, [{"name": "sh", "type": "command", "include": ["**/*.sh"],
                         "command": ["true", "{files}"]}],
                 debounce_ms=50, stability_ms=20)
    # No ASan quarantine: it keeps every freed block for a while, which is
    # memory the daemon gave back (RSS is what is measured here).
    asan = "detect_leaks=1:abort_on_error=1:quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    r = watchd("start", env_extra={"WATCHD_TEST_IPC_STALL_MS": STALL_MS, "ASAN_OPTIONS": asan})
    assert r.rc == 0, str(r)
    st = watchd("status", "--json").json
    track_daemon(st["pid"])
    for _ in range(200):	# warm: the ledger's statements and caches
        ask(st["socket"])
    yield st["pid"], st["socket"]
    watchd("stop", timeout=30, check_sanitizers=False)


def watch_latency(path, until, pid, worst, limit=60):
    """Asks status until until() is true (within limit seconds); records
    the slowest answer and the largest RSS in worst."""
    end = time.monotonic() + limit
    while not until():
        assert time.monotonic() < end, ("not within %ss" % limit, worst)
        dt, st = ask(path)
        assert st.get("running") is True, st
        worst["latency"] = max(worst["latency"], dt)
        worst["rss"] = max(worst["rss"], rss_kib(pid))


def test_pipelined_client_that_never_reads(served):
    pid, path = served
    rss0, fds0 = rss_kib(pid), fd_count(pid)
    worst = {"latency": 0.0, "rss": rss0}
    greedy = connect(path)
    greedy.setblocking(False)
    sent = 0
    # 2,000 requests, or more if that many replies would not pass the
    # daemon's 1 MiB cap with room for the kernel's socket buffer
    _, st = ask(path)
    size = len(json.dumps(st, separators=(",", ":"))) + 1
    want = STATUS * max(2000, (3 << 20) // size + 1)
    deadline = time.monotonic() + 30
    while sent < len(want) and time.monotonic() < deadline:
        try:
            sent += greedy.send(want[sent:])
        except BlockingIOError:
            select.select([], [greedy], [], 0.05)
        except (BrokenPipeError, ConnectionResetError):
            break
        dt, _ = ask(path)
        worst["latency"] = max(worst["latency"], dt)
    # It never reads: the daemon stops reading it, then closes it once its
    # unread replies have stayed over the cap past the deadline.
    watch_latency(path, lambda: hung_up(greedy), pid, worst, limit=30)
    greedy.close()
    wait_until(lambda: fd_count(pid) <= fds0, what="the daemon closed the connection")
    dt, _ = ask(path)
    worst["latency"] = max(worst["latency"], dt)
    rss1 = rss_kib(pid)
    assert worst["latency"] < 1.0, worst
    assert worst["rss"] - rss0 < RSS_SLACK_KIB, (rss0, worst)
    assert rss1 - rss0 < RSS_SLACK_KIB, (rss0, rss1)


def flood(path, stop, counts, reader):
    """Sends status requests as fast as the socket takes them until stop
    is set; reconnects when the daemon closes the connection. With reader,
    a thread reads every reply (a busy but honest client)."""
    chunk = STATUS * 256
    while not stop.is_set():
        s = connect(path)
        done = threading.Event()
        if reader:
            def drain(s, done):
                try:
                    while True:
                        select.select([s], [], [], 1.0)
                        try:
                            data = s.recv(1 << 16)
                        except BlockingIOError:
                            continue
                        if not data:
                            break
                        counts["read"] += data.count(b"\n")
                except (OSError, ValueError):
                    pass
                done.set()
            threading.Thread(target=drain, args=(s, done), daemon=True).start()
        s.setblocking(False)
        try:
            while not stop.is_set():
                try:
                    counts["sent"] += s.send(chunk) // len(STATUS)
                except BlockingIOError:
                    select.select([], [s], [], 0.05)
        except (BrokenPipeError, ConnectionResetError):
            counts["dropped"] += 1
        finally:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
            if reader:
                done.wait(5)


@pytest.mark.parametrize("reader", [False, True], ids=["never-reads", "reads"])
def test_full_speed_client(served, reader):
    pid, path = served
    rss0, fds0 = rss_kib(pid), fd_count(pid)
    worst = {"latency": 0.0, "rss": rss0}
    stop = threading.Event()
    counts = {"sent": 0, "read": 0, "dropped": 0}
    t = threading.Thread(target=flood, args=(path, stop, counts, reader), daemon=True)
    t.start()
    end = time.monotonic() + FLOOD_S
    try:
        watch_latency(path, lambda: time.monotonic() > end, pid, worst)
    finally:
        stop.set()
        t.join(30)
    assert counts["sent"] > 2000, counts
    if reader:
        assert counts["read"] > 2000, counts
    else:
        assert counts["dropped"] >= 1, counts
    wait_until(lambda: fd_count(pid) <= fds0, what="the daemon closed the connection")
    rss1 = rss_kib(pid)
    print(f"flood {FLOOD_S}s reader={reader}: {counts}, worst {worst}, rss {rss0} -> {rss1} KiB")
    assert worst["latency"] < 1.0, (worst, counts)
    assert worst["rss"] - rss0 < RSS_SLACK_KIB, (rss0, worst, counts)
    assert rss1 - rss0 < RSS_SLACK_KIB, (rss0, rss1, counts)
