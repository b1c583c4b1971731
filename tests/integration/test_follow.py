"""`watchd status --follow [--json]`: the daemon's event stream over its
socket. Events come in order (run_started, gate_finished, run_finished),
config reloads and errors and rescans are told, the stream ends with exit 0
when the daemon stops, and a reader that stops reading is dropped with a
final {"event":"lagged"} line while the daemon and its other clients go on."""
import json
import socket
import subprocess
import time

import pytest

from conftest import WATCHD, ULID_RE, wait_until, write_config

LINT = {"name": "lint", "type": "command", "include": ["**/*.txt"],
        "command": ["bad-words", "{files}"], "parser": "gcc"}


@pytest.fixture
def daemon_config():
    return {"gates": [LINT], "debounce_ms": 50, "stability_ms": 20}


class Follower:
    """`watchd status --follow` with its stdout in a file outside ROOT."""

    def __init__(self, repo, env, path, json_mode=True):
        self.path, self.err_path = path, path.with_suffix(".err")
        argv = [str(WATCHD), "status", "--follow"] + (["--json"] if json_mode else [])
        with open(self.path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=repo, env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        first = wait_until(lambda: self.lines() or self.proc.poll() is not None,
                           what="the follower's first line")
        assert first is not True, f"follower exited: {self.err_path.read_text()}"

    def text(self):
        return self.path.read_text(encoding="utf-8", errors="replace")

    def lines(self):
        return [ln for ln in self.text().splitlines() if ln]

    def events(self):
        return [json.loads(ln) for ln in self.lines()]

    def wait_for(self, pred, what):
        return wait_until(lambda: [e for e in self.events() if pred(e)], what=what)

    def finish(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def ask(sock, req, timeout=10):
    """One request over the daemon's socket; its one-line answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock)
        s.sendall(json.dumps(req).encode() + b"\n")
        return json.loads(s.makefile().readline())


def sync(watchd):
    r = watchd("status", "--sync", "--json")
    assert r.rc in (0, 1), str(r)
    return r.json


def test_an_edit_streams_run_started_gate_finished_run_finished(daemon, repo, env, watchd,
                                                                tmp_path):
    f = Follower(repo, env, tmp_path / "follow.jsonl")
    hello = f.events()[0]
    assert hello["event"] == "subscribed" and hello["pid"] == daemon.pid, hello
    (repo / "a.txt").write_text("fine\nBAD here\n")
    sync(watchd)
    done = f.wait_for(lambda e: e["event"] == "run_finished", "run_finished")[0]
    run_id = done["run_id"]
    assert ULID_RE.match(run_id)
    mine = [e for e in f.events() if e.get("run_id") == run_id]
    assert [e["event"] for e in mine] == ["run_started", "gate_finished", "run_finished"], mine
    started, gate, finished = mine
    assert started["trigger"] == "watch" and started["gates"] == ["lint"]
    assert started["files"] == ["a.txt"] and started["files_count"] == 1
    assert gate["gate"] == "lint" and gate["status"] == "fail" and gate["files"] == ["a.txt"]
    assert gate["findings_count"] == 1
    assert gate["findings"][0] == {
        "path": "a.txt", "line": 2, "col": 1, "end_line": 0, "end_col": 0, "code": "X002",
        "severity": "error", "message": "bad word here", "url": None, "fixable": False}
    assert finished["status"] == "fail" and finished["findings_count"] == 1
    assert finished["gates"] == [{"name": "lint", "status": "fail", "findings_count": 1}]
    for e in f.events():
        assert e["time"].endswith("Z"), e
    # the stream's run is the ledger's
    shown = watchd("show", run_id, "--json")
    assert shown.rc == 0 and shown.json["status"] == "fail", str(shown)
    assert watchd("status", "--json").json["subscribers"] == 1
    watchd("stop")
    assert f.finish() == 0


def test_config_reload_error_and_rescan_events(daemon, repo, env, watchd, tmp_path):
    f = Follower(repo, env, tmp_path / "follow.jsonl")
    # a changed gate is reloaded, and re-run on what it includes
    write_config(repo, [dict(LINT, timeout_s=30)], debounce_ms=50, stability_ms=20)
    sync(watchd)
    ok = f.wait_for(lambda e: e["event"] == "config_reloaded", "config_reloaded")[0]
    assert ok["changed_gates"] == ["lint"] and ok["config"].endswith("watch.config.json"), ok
    # a bad edit keeps the running config and says where it is wrong
    (repo / "watch.config.json").write_text('{"version": 1,\n "gates": [{"name": 3}]}\n')
    sync(watchd)
    bad = f.wait_for(lambda e: e["event"] == "config_error", "config_error")[0]
    assert bad["keypath"] == "gates[0].name" and bad["line"] == 2, bad
    assert "gates[0].name" in bad["message"] and bad["file"].endswith("watch.config.json")
    # a rescan (here requested over the socket, the test and recovery hook)
    sock = watchd("status", "--json").json["socket"]
    assert ask(sock, {"cmd": "rescan"})["ok"] is True
    resc = f.wait_for(lambda e: e["event"] == "rescan", "rescan")[0]
    assert resc["full"] is True and resc["rescans"] >= 1, resc
    names = [e["event"] for e in f.events()]
    assert names.index("config_reloaded") < names.index("config_error") < names.index("rescan")
    watchd("stop")
    assert f.finish() == 0
    assert f.events()[-1]["event"] == "stopping"


def test_ends_with_exit_0_when_the_daemon_stops(daemon, repo, env, watchd, tmp_path):
    js = Follower(repo, env, tmp_path / "follow.jsonl")
    text = Follower(repo, env, tmp_path / "follow.txt", json_mode=False)
    (repo / "a.txt").write_text("BAD\n")
    sync(watchd)
    wait_until(lambda: " fail in " in text.text(), what="the text run line")
    r = watchd("stop")
    assert r.rc == 0, str(r)
    assert js.finish() == 0 and text.finish() == 0
    assert js.events()[-1]["event"] == "stopping"
    lines = text.lines()
    assert "following the daemon" in lines[0]
    assert any(" run " in ln and " started: lint on a.txt" in ln for ln in lines), lines
    assert "  lint fail (1 file, 1 finding)" in lines, lines
    assert "a.txt:1:1: X001 bad word here [lint]" in lines, lines
    assert lines[-1].endswith("the daemon is stopping"), lines
    # no daemon: exit 3, as status; --sync makes no sense with it
    r = watchd("status", "--follow")
    assert r.rc == 3 and "not running" in r.stderr, str(r)
    r = watchd("status", "--follow", "--sync")
    assert r.rc == 2 and "--follow" in r.stderr, str(r)


def test_a_reader_that_never_reads_is_dropped_with_lagged(daemon, repo, env, watchd,
                                                          tmp_path):
    sock = daemon.status["socket"]
    good = Follower(repo, env, tmp_path / "good.jsonl")
    slow = socket.socket(socket.AF_UNIX)
    slow.connect(sock)
    slow.sendall(b'{"cmd":"subscribe"}\n')
    wait_until(lambda: watchd("status", "--json").json["subscribers"] == 2,
               what="two subscribers")
    # Each edit brings a gate_finished of 1,000 findings (~150 KB): the
    # slow reader's socket buffer fills, then the daemon's queue for it.
    slowest = 0.0
    runs = 0
    for i in range(60):
        (repo / "many.txt").write_text(f"edit {i}\n" + "BAD word\n" * 1200)
        sync(watchd)
        runs += 1
        # another client's status is answered at once (timed at the
        # socket: a sanitized CLI's own start-up is not the daemon's)
        t0 = time.monotonic()
        st = ask(sock, {"cmd": "status"})
        slowest = max(slowest, time.monotonic() - t0)
        assert st["running"] is True
        if st["subscribers"] == 1:
            break
    else:
        pytest.fail("the reader that never reads was never dropped")
    assert slowest < 1.0, f"status took {slowest:.2f}s beside a stalled reader"
    r = watchd("status", "--json")
    assert r.rc in (0, 1) and r.json["subscribers"] == 1, str(r)
    # the daemon keeps judging: one more edit is gated and streamed
    (repo / "many.txt").write_text("all good now\n")
    last = sync(watchd)["last_run"]["id"]
    good.wait_for(lambda e: e["event"] == "run_finished" and e["run_id"] == last,
                  "the good follower's last run")
    good_events = good.events()
    assert all(e["event"] != "lagged" for e in good_events)
    assert sum(e["event"] == "run_finished" for e in good_events) >= runs + 1
    # what the slow reader finally reads ends with the lagged line, then EOF
    slow.settimeout(30)
    data = b""
    while True:
        chunk = slow.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    slow.close()
    lines = [json.loads(ln) for ln in data.decode().splitlines()]
    assert lines[0]["event"] == "subscribed"
    assert lines[-1]["event"] == "lagged" and "message" in lines[-1], lines[-1]
    assert all(e["event"] != "lagged" for e in lines[:-1])
    assert last not in [e.get("run_id") for e in lines], "events after the drop"
    watchd("stop")
    assert good.finish() == 0
