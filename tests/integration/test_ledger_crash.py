"""The ledger under stress, with the real daemon and real SQLite files: SIGKILL
under load, a full disk, a read-only ledger, schema upgrades and many readers
beside the writer. Checks read the files with Python's sqlite3.

Each test gets `root` (conftest.py's Root): a fresh git repository as ROOT, a
private XDG_RUNTIME_DIR and a `watchd --root ROOT` caller; daemons are stopped
(or killed) at the end whatever happened.

Test hook used here: WATCHD_TEST_MAX_PAGES=N caps the ledger's WRITE
connection at N pages (so writes fail with SQLITE_FULL); the daemon's
ledger retry re-reads the cap from ROOT/.watchd/test-max-pages and lifts it
once that file is gone.
"""
import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import LEDGER_APP_ID, pid_alive, wait_until

QUICK_GATE = [{"name": "quick", "type": "command", "include": ["**/*.txt"],
               "command": ["true", "{files}"], "timeout_s": 30}]
# ~14 KB of output per run: the gate run's row needs new (overflow) pages
BIG_GATE = [{"name": "big", "type": "command", "include": ["**/*.txt"],
             "command": ["seq", "1", "3000"], "timeout_s": 30}]


class Writer(threading.Thread):
    """Edits files continuously until stopped."""

    def __init__(self, root, nfiles=8, pause=0.004):
        super().__init__(daemon=True)
        self.root, self.nfiles, self.pause = root, nfiles, pause
        self.halt = threading.Event()
        self.n = 0

    def run(self):
        while not self.halt.is_set():
            (self.root / f"w{self.n % self.nfiles}.txt").write_text(f"{self.n}\n")
            self.n += 1
            time.sleep(self.pause)

    def stop(self):
        self.halt.set()
        self.join(10)


def test_sigkill_under_load_loses_no_finished_run(root):
    # a gate that takes a moment, so most kills find a run in flight
    root.config([dict(QUICK_GATE[0], command=["sleep", "0.03"])], debounce_ms=5,
                stability_ms=0)
    w = Writer(root.path)
    w.start()
    left_running = set()
    interrupted_checked = finished_checked = 0
    t0 = time.monotonic()
    try:
        for round_ in range(20):
            st = root.start()
            pid = st["pid"]
            # what the previous daemon left running is interrupted now
            if left_running:
                by_id = {r["id"]: r["status"] for r in root.log()}
                for rid in left_running:
                    assert by_id.get(rid) == "interrupted", (round_, rid, by_id.get(rid))
                interrupted_checked += len(left_running)
            wait_until(lambda: len(root.log(limit=5)) > 0, 20, what="a first run")
            time.sleep(0.3)
            finished = {r["id"]: r["status"] for r in root.log()
                        if r["status"] != "running"}
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda pid=pid: not pid_alive(pid), 10, what="the daemon to die")
            root.pids.discard(pid)
            assert root.sql("PRAGMA integrity_check") == [("ok",)], round_
            on_disk = dict(root.sql("SELECT id, status FROM runs"))
            for rid, status in finished.items():
                assert on_disk.get(rid) == status, (round_, rid, status, on_disk.get(rid))
            finished_checked += len(finished)
            left_running = {rid for rid, s in on_disk.items() if s == "running"}
    finally:
        w.stop()
    assert time.monotonic() - t0 < 90
    print(f"{finished_checked} finished runs checked, {interrupted_checked} interrupted")
    assert finished_checked >= 20 and interrupted_checked >= 5
    st = root.start()
    assert st["ledger"]["ok"] is True, st["ledger"]
    runs = root.sql("SELECT count(*) FROM runs")[0][0]
    assert runs >= 20
    assert root.sql("SELECT count(*) FROM runs WHERE status = 'running'")[0][0] <= 1


def test_disk_full_queues_runs_and_records_them_later(root):
    root.config(BIG_GATE, debounce_ms=20, stability_ms=10)
    (root.path / ".watchd").mkdir()
    hook = root.path / ".watchd" / "test-max-pages"
    hook.write_text("1\n")
    root.start(env={"WATCHD_TEST_MAX_PAGES": "1"})
    (root.path / "a.txt").write_text("a\n")
    st = wait_until(lambda: (lambda s: s if not s["ledger"]["ok"] else None)(root.status()),
                    30, what="the ledger to report the failure")
    assert "full" in st["ledger"]["error"], st["ledger"]
    assert "ledger.db" in st["ledger"]["error"]
    assert st["ledger"]["queued_writes"] >= 1
    # still watching: more changes make more runs, queued behind the first
    for i in range(5):
        (root.path / f"b{i}.txt").write_text(f"{i}\n")
        wait_until(lambda i=i: root.status()["ledger"]["queued_writes"] >= 2 + 2 * i, 30,
                   what=f"edit {i} to be queued")
    st = root.status()
    assert st["running"] is True and st["ledger"]["ok"] is False
    before = root.sql("SELECT count(*) FROM gate_runs")[0][0]
    assert before == 0
    # room again: the next retry (every 2 s) records everything, in order
    hook.unlink()
    wait_until(lambda: root.status()["ledger"]["queued_writes"] == 0, 30,
               what="the queue to drain")
    st = root.status()
    assert st["ledger"]["ok"] is True and st["ledger"]["error"] is None, st["ledger"]
    assert st["ledger"]["dropped_writes"] == 0
    runs = root.log()
    assert runs and all(r["status"] == "pass" for r in runs), runs
    assert all(len(r["gates"]) == 1 for r in runs)
    seen = {f for r in runs for g in r["gates"] for f in g["files"]}
    assert seen == {"a.txt"} | {f"b{i}.txt" for i in range(5)}
    assert root.sql("PRAGMA integrity_check") == [("ok",)]
    root.stop()
    root.sanitizer_free_log()


def test_run_exits_4_when_the_ledger_is_full(root):
    root.config(BIG_GATE)
    (root.path / "a.txt").write_text("a\n")
    rc, out, err, _ = root.run("run")
    assert rc == 0, err
    (root.path / ".watchd" / "test-max-pages").write_text("1\n")
    rc, out, err, _ = root.run("run", "--no-cache", env={"WATCHD_TEST_MAX_PAGES": "1"})
    assert rc == 4, (out, err)
    assert "ledger.db" in err and "full" in err, err


def _make_read_only(path):
    """chmod 444; as root (who ignores modes) chattr +i. The undo, or None."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    p = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if p.returncode != 0:
        return None
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_run_exits_4_on_a_read_only_ledger(root):
    root.config(QUICK_GATE)
    (root.path / "a.txt").write_text("a\n")
    assert root.run("run")[0] == 0
    undo = _make_read_only(root.db)
    if undo is None:
        pytest.skip("running as root and chattr +i is not available here")
    try:
        (root.path / "a.txt").write_text("b\n")
        rc, out, err, _ = root.run("run")
        assert rc == 4, (out, err)
        assert "ledger.db" in err and "readonly" in err, err
        assert "could not be recorded" in err or "cannot" in err, err
        rc, _, _, js = root.run("log", "--json")      # reading still works
        assert rc == 0 and len(js) == 1
    finally:
        undo()


def test_daemon_keeps_watching_while_the_ledger_is_read_only(root):
    """The ledger and its WAL turn read-only under a running daemon: the
    failure shows in status, runs wait in memory, and are written once the
    files are writable again."""
    root.config(QUICK_GATE, debounce_ms=20, stability_ms=10)
    root.start()
    (root.path / "a.txt").write_text("a\n")
    assert root.run("status", "--sync")[0] == 0
    wal = root.db.with_name("ledger.db-wal")
    undos = [u for u in (_make_read_only(root.db), _make_read_only(wal)) if u]
    if len(undos) < 2 or os.geteuid() != 0:
        for u in undos:
            u()
        pytest.skip("needs root and chattr +i (the daemon's open descriptors ignore modes)")
    try:
        (root.path / "b.txt").write_text("b\n")
        st = wait_until(lambda: (lambda s: s if not s["ledger"]["ok"] else None)(root.status()),
                        30, what="the ledger to report the failure")
        assert "ledger.db" in st["ledger"]["error"], st["ledger"]
        assert st["ledger"]["queued_writes"] >= 1
        (root.path / "c.txt").write_text("c\n")
        wait_until(lambda: root.status()["ledger"]["queued_writes"] >= 3, 30,
                   what="the second run")
        assert root.status()["running"] is True
        log = (root.path / ".watchd" / "watchd.log").read_text(errors="replace")
        assert "ledger.db" in log
    finally:
        for u in undos:
            u()
    wait_until(lambda: root.status()["ledger"]["queued_writes"] == 0, 30,
               what="the queue to drain")
    st = root.status()
    assert st["ledger"]["ok"] is True, st["ledger"]
    seen = {f for r in root.log() for g in r["gates"] for f in g["files"]}
    assert seen == {"a.txt", "b.txt", "c.txt"}
    assert root.sql("PRAGMA integrity_check") == [("ok",)]
    root.stop()
    root.sanitizer_free_log()


V1_DDL = """
CREATE TABLE runs (
  id          TEXT PRIMARY KEY,
  trigger     TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN
                ('running','pass','fail','error','interrupted')),
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  git_head    TEXT,
  config_hash TEXT
) STRICT;
CREATE INDEX runs_started ON runs(started_at DESC, id DESC);
CREATE INDEX runs_running ON runs(status) WHERE status = 'running';
CREATE TABLE gate_runs (
  id            INTEGER PRIMARY KEY,
  run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  gate          TEXT NOT NULL,
  fingerprint   TEXT,
  status        TEXT NOT NULL,
  cached        INTEGER NOT NULL DEFAULT 0,
  cached_from   TEXT,
  exit_code     INTEGER,
  started_at    INTEGER NOT NULL,
  duration_ms   INTEGER NOT NULL,
  message       TEXT,
  output        TEXT,
  tests_total   INTEGER,
  tests_passed  INTEGER,
  tests_failed  INTEGER,
  tests_skipped INTEGER
) STRICT;
CREATE INDEX gate_runs_run ON gate_runs(run_id);
CREATE INDEX gate_runs_gate ON gate_runs(gate, status);
CREATE TABLE gate_files (
  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  blob        TEXT,
  reason      TEXT,
  PRIMARY KEY (gate_run_id, path)
) STRICT, WITHOUT ROWID;
CREATE TABLE findings (
  id          INTEGER PRIMARY KEY,
  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,
  path        TEXT,
  line        INTEGER NOT NULL DEFAULT 0,
  col         INTEGER NOT NULL DEFAULT 0,
  end_line    INTEGER NOT NULL DEFAULT 0,
  end_col     INTEGER NOT NULL DEFAULT 0,
  code        TEXT,
  severity    TEXT NOT NULL,
  message     TEXT NOT NULL,
  url         TEXT,
  fixable     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX findings_gate_run ON findings(gate_run_id, path);
CREATE TABLE file_state (
  gate        TEXT NOT NULL,
  path        TEXT NOT NULL,
  status      TEXT NOT NULL,
  findings    INTEGER NOT NULL DEFAULT 0,
  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id),
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (gate, path)
) STRICT, WITHOUT ROWID;
CREATE INDEX file_state_path ON file_state(path);
CREATE INDEX file_state_gate_run ON file_state(gate_run_id);
CREATE TABLE cache (
  gate        TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  path        TEXT NOT NULL,
  cache_key   TEXT NOT NULL,
  status      TEXT NOT NULL,
  gate_run_id INTEGER NOT NULL REFERENCES gate_runs(id),
  run_id      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (gate, fingerprint, path, cache_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX cache_gate_run ON cache(gate_run_id);
CREATE INDEX cache_created ON cache(created_at);
"""
V1_RUN = "01KAVS0C00ABCDEFGHJKMNPQRS"


def make_v1(db_path):
    db_path.parent.mkdir(exist_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(V1_DDL)
    db.execute("INSERT INTO runs VALUES (?, 'watch', 'fail', 1764000000000, 1764000000500,"
               " NULL, 'cfg1')", (V1_RUN,))
    db.execute("INSERT INTO gate_runs (id, run_id, gate, status, exit_code, started_at,"
               " duration_ms) VALUES (7, ?, 'ruff', 'fail', 1, 1764000000100, 41)", (V1_RUN,))
    db.execute("INSERT INTO gate_files VALUES (7, 'a.py', 'b10b', 'changed')")
    db.execute("INSERT INTO findings (gate_run_id, path, line, col, code, severity, message)"
               " VALUES (7, 'a.py', 1, 8, 'F401', 'error', 'unused import')")
    db.execute(f"PRAGMA application_id = {LEDGER_APP_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_schema_1_is_read_as_is_and_upgraded_by_run(root):
    make_v1(root.db)
    # READ never migrates: an older daemon may still be writing the file
    runs = root.log()
    assert [r["id"] for r in runs] == [V1_RUN]
    assert runs[0]["status"] == "fail"
    rc, out, err, js = root.run("show", V1_RUN[:12], "--json")
    assert rc == 0, err
    assert js["gates"][0]["findings"][0]["code"] == "F401"
    assert "input_digest" not in js["gates"][0]
    assert root.sql("PRAGMA user_version") == [(1,)]
    # a run upgrades it in place
    root.config(QUICK_GATE)
    (root.path / "a.txt").write_text("a\n")
    rc, out, err, _ = root.run("run")
    assert rc == 0, err
    assert root.sql("PRAGMA user_version") == [(10,)]
    cols = {r[1] for r in root.sql("PRAGMA table_info(gate_runs)")}
    assert "input_digest" in cols
    assert "cache_key" in {r[1] for r in root.sql("PRAGMA table_info(gate_files)")}
    runs = root.log()
    assert len(runs) == 2 and runs[1]["id"] == V1_RUN and runs[1]["status"] == "fail"
    assert root.sql("SELECT cache_key FROM gate_files WHERE path = 'a.txt'")[0][0]
    # schema 4 kept the v1 finding, its id as seq
    assert root.sql("SELECT path, seq, code FROM findings WHERE gate_run_id = 7") == \
        [("a.py", 1, "F401")]
    assert root.sql("PRAGMA integrity_check") == [("ok",)]


def test_readers_never_fail_while_the_daemon_records(root):
    root.config(QUICK_GATE, debounce_ms=0, stability_ms=0)
    root.start()
    want = 1000
    t0 = time.monotonic()
    stop = threading.Event()
    failures, reads = [], [0]
    lock = threading.Lock()

    def reader():
        while not stop.is_set():
            rc, out, err, js = root.run("log", "--json", "--limit", "5", nice=True)
            with lock:
                reads[0] += 1
                if rc != 0 or not isinstance(js, list) or "locked" in err or "busy" in err:
                    failures.append((rc, err[-500:]))

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(20)]
    for t in readers:
        t.start()
    n = 0
    # Twenty sanitized readers can saturate a 2-core machine; they run
    # niced so the test measures contention on the ledger, not CPU
    # starvation of the daemon. The deadline is only a backstop.
    try:
        while time.monotonic() - t0 < 150:
            (root.path / f"f{n}.txt").write_text(f"{n}\n")
            n += 1
            # about one edit per run: bigger batches cost the daemon more per run
            time.sleep(0.01)
            if n % 50 == 0 and root.sql("SELECT count(*) FROM runs")[0][0] >= want:
                break
        wait_until(lambda: root.sql("SELECT count(*) FROM runs WHERE status = 'running'")
                   == [(0,)], 30, what="the last runs to finish")
    finally:
        stop.set()
        for t in readers:
            t.join(30)
    elapsed = time.monotonic() - t0
    runs = root.sql("SELECT count(*) FROM runs")[0][0]
    print(f"{runs} runs from {n} edits in {elapsed:.1f}s, {reads[0]} concurrent reads")
    assert not failures, failures[:5]
    assert reads[0] >= 20
    assert runs >= want, f"only {runs} runs in {elapsed:.1f}s ({n} edits)"
    st = root.status()
    assert st["ledger"]["ok"] is True and st["ledger"]["queued_writes"] == 0
    root.stop()
    root.sanitizer_free_log()


def test_daemon_applies_retention_at_start(root):
    root.config(QUICK_GATE, ledger={"keep_days": 30})
    (root.path / "a.txt").write_text("a\n")
    assert root.run("run")[0] == 0
    old_ms = int((time.time() - 40 * 86400) * 1000)
    db = sqlite3.connect(root.db)
    db.execute("INSERT INTO runs (id, trigger, status, started_at, finished_at)"
               " VALUES ('00000000000000000000000OLD', 'run', 'pass', ?, ?)",
               (old_ms, old_ms + 10))
    db.commit()
    db.close()
    assert len(root.log()) == 2
    st = root.start()
    assert st["ledger"]["ok"] is True
    runs = root.log()
    assert [r["trigger"] for r in runs] == ["run"] and len(runs) == 1
    assert root.sql("SELECT count(*) FROM runs WHERE id LIKE '%OLD'") == [(0,)]


SLOW_TOOL = """\
import os, sys, time
files = [a for a in sys.argv[1:] if a != "--"]
flag, started = sys.argv[1], sys.argv[2]
files = files[2:]
if os.path.exists(flag):
    with open(started, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)
bad = [p for p in files if "bad" in open(p).read()]
for p in bad:
    print(f"{p}:1:1: error: bad content [X1]")
sys.exit(1 if bad else 0)
"""


def test_sigkill_mid_run_is_judged_again_not_passed(root, tmp_path):
    """Issue 16, point 7: a kill -9 while a gate judges new content leaves
    that content unjudged. The restarted daemon never shows the gate's old
    pass for it, judges the file again, and the cut run shows no invented
    finish time."""
    tool = tmp_path / "slow.py"
    tool.write_text(SLOW_TOOL)
    flag, started = tmp_path / "slow", tmp_path / "started"
    root.config([{"name": "slow", "type": "command", "include": ["**/*.sh"],
                  "command": ["/usr/bin/python3", str(tool), str(flag), str(started), "{files}"],
                  "parser": "gcc", "timeout_s": 120}], debounce_ms=20, stability_ms=10)
    a = root.path / "a.sh"
    st = root.start()
    pid = st["pid"]
    a.write_text("echo good\n")
    rc, out, err, js = root.run("status", "--sync", "--json")
    [g] = [g for g in js["gates"] if g["name"] == "slow"]
    assert g["status"] == "pass" and g["checked_files"] == 1, js

    flag.write_text("")
    a.write_text("echo bad\n")
    wait_until(started.exists, 20, what="the slow tool to start on the new content")
    wait_until(lambda: started.read_text().strip(), 10, what="the slow tool's pid")
    tool_pid = int(started.read_text())
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid), 10, what="the daemon to die")
    root.pids.discard(pid)
    try:
        os.kill(tool_pid, signal.SIGKILL)  # its own session: it outlives the daemon
    except ProcessLookupError:
        pass
    [(cut_id,)] = root.sql("SELECT id FROM runs WHERE status = 'running'")
    flag.unlink()

    st = root.start()
    for g in st["gates"]:
        # the old pass was for content before the edit: never shown for it
        assert not (g["name"] == "slow" and g["status"] == "pass"), st
    rc, out, err, js = root.run("status", "--sync", "--json")
    [g] = [g for g in js["gates"] if g["name"] == "slow"]
    assert g["status"] == "fail" and g["failing_files"] == 1, js

    rc, out, err, run = root.run("show", cut_id, "--json")
    assert rc in (0, 1) and run["status"] == "interrupted", (rc, out, err)
    assert run["finished_at"] is None, run
    rc, out, err, _ = root.run("show", cut_id)
    assert "finished  -" in out, out


def test_sigkill_with_results_staged_judges_them_again(root):
    """The daemon writes a burst's file_state and cache rows together, once
    nothing is left to settle or run (ledger_stage). A kill -9 before that
    loses no judgement: the runs kept their files, and the next daemon
    judges them again."""
    root.config(QUICK_GATE, debounce_ms=20, stability_ms=10, writer_timeout_ms=60000)
    st = root.start()
    pid = st["pid"]
    (root.path / "a.txt").write_text("a\n")
    rc, out, err, js = root.run("status", "--sync", "--json")
    assert rc == 0, (out, err)
    assert root.sql("SELECT count(*) FROM file_state WHERE path = 'a.txt'") == [(1,)]

    # a file still being written keeps the daemon busy: what the next
    # changes judge waits in the stage (status would write it out: not
    # asked until after the kill)
    with open(root.path / "held.txt", "w") as held:
        held.write("partial\n")
        held.flush()
        (root.path / "b.txt").write_text("b\n")
        (root.path / "c.txt").write_text("c\n")

        def judged():
            rows = root.sql("SELECT g.path FROM gate_files g JOIN gate_runs r"
                            " ON r.id = g.gate_run_id JOIN runs u ON u.id = r.run_id"
                            " WHERE u.status = 'pass' AND g.path IN ('b.txt', 'c.txt')")
            return len(rows) == 2
        wait_until(judged, 30, what="b.txt and c.txt to be judged")
        staged = root.sql("SELECT count(*) FROM file_state"
                          " WHERE path IN ('b.txt', 'c.txt')")[0][0]
        # a run's files, NUL-separated, in one row
        kept = sum(len({b"b.txt", b"c.txt"} & set(bytes(p).split(b"\0")))
                   for (p,) in root.sql("SELECT paths FROM run_files"))
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 10, what="the daemon to die")
        root.pids.discard(pid)
    # within a second of the run the rows still waited, and the run kept
    # its files for them
    assert (staged, kept) == (0, 2)
    assert root.sql("SELECT count(*) FROM file_state"
                    " WHERE path IN ('b.txt', 'c.txt')") == [(0,)]

    root.start()
    rc, out, err, js = root.run("status", "--sync", "--json")
    assert rc == 0, (out, err)
    [g] = js["gates"]
    assert g["status"] == "pass" and g["checked_files"] >= 3, js
    # judged twice: before the kill, and again by the next daemon
    assert root.sql("SELECT path, count(*) FROM gate_files WHERE path IN ('b.txt', 'c.txt')"
                    " GROUP BY path ORDER BY path") == [("b.txt", 2), ("c.txt", 2)]
    assert root.sql("SELECT count(*) FROM run_files") == [(0,)]
    root.stop()
    root.sanitizer_free_log()
