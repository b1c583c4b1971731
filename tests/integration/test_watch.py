"""Watching that never misses: tree changes, overflow, watch limits, ignores,
editor saves, git operations, sync, symlinks. Each test runs the real daemon on
a real temp tree; a recorder gate (tests/tools/record-files) writes down every
file it is given and what the file held, so "exactly one dispatch of the final
content" is checked on what the tool actually saw."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import commit_all, git, requires, wait_until, write_config

pytestmark = requires("start", "status", "stop")


class Recorder:
    def __init__(self, repo, watchd, env, tmp_path):
        self.repo = repo
        self.watchd = watchd
        self.env = env
        self.file = tmp_path / "dispatched.jsonl"
        self.file.touch()

    def start(self, **top):
        gates = [{"name": "rec", "type": "command", "include": ["**"],
                  "exclude": ["watch.config.json"],
                  "command": ["record-files", "{files}"], "timeout_s": 60}]
        cfg = {"debounce_ms": 50, "stability_ms": 30}
        cfg.update(top)
        write_config(self.repo, gates, **cfg)
        r = self.watchd("start", env_extra={"WATCHD_TEST_RECORD": str(self.file)})
        assert r.rc == 0, str(r)
        return self.status()

    def status(self):
        r = self.watchd("status", "--json")
        assert r.rc == 0, str(r)
        return r.json

    def sync(self, timeout=60):
        r = self.watchd("status", "--sync", "--json", "--timeout", str(timeout),
                        timeout=timeout + 30)
        assert r.rc == 0, str(r)
        return r.json

    def records(self):
        out = []
        for line in self.file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def paths(self):
        return [r["path"] for r in self.records()]

    def clear(self):
        self.file.write_text("")


@pytest.fixture
def rec(repo, watchd, env, tmp_path):
    r = Recorder(repo, watchd, env, tmp_path)
    yield r


def test_new_directory_with_files_already_inside(rec, repo):
    rec.start()
    d = repo / "fresh"
    d.mkdir()
    for i in range(200):
        (d / f"f{i}.txt").write_text(f"{i}\n")
    (d / "sub").mkdir()
    for i in range(50):
        (d / "sub" / f"g{i}.txt").write_text(f"{i}\n")
    rec.sync()
    got = rec.paths()
    want = {f"fresh/f{i}.txt" for i in range(200)} | {f"fresh/sub/g{i}.txt" for i in range(50)}
    assert set(got) == want
    assert len(got) == len(want), "a file was dispatched twice"


def test_directory_renamed_within_tree(rec, repo):
    (repo / "old" / "deep").mkdir(parents=True)
    (repo / "old" / "deep" / "a.txt").write_text("a\n")
    rec.start()
    os.rename(repo / "old", repo / "new")
    rec.sync()
    rec.clear()
    (repo / "new" / "deep" / "a.txt").write_text("edited\n")
    (repo / "new" / "deep" / "b.txt").write_text("b\n")
    rec.sync()
    got = set(rec.paths())
    assert got == {"new/deep/a.txt", "new/deep/b.txt"}
    st = rec.status()
    assert st["watch"]["dirs"] == 3  # ROOT, new, new/deep


def test_moved_in_from_outside_and_moved_out(rec, repo, tmp_path):
    outside = tmp_path / "outside"
    (outside / "x").mkdir(parents=True)
    (outside / "x" / "one.txt").write_text("1\n")
    (repo / "leaving" / "y").mkdir(parents=True)
    rec.start()
    dirs0 = rec.status()["watch"]["dirs"]
    os.rename(outside, repo / "inside")
    rec.sync()
    assert "inside/x/one.txt" in rec.paths()
    (repo / "inside" / "x" / "two.txt").write_text("2\n")
    rec.sync()
    assert "inside/x/two.txt" in rec.paths()
    assert rec.status()["watch"]["dirs"] == dirs0 + 2
    os.rename(repo / "leaving", tmp_path / "gone")
    # the unpaired move expires; its watches are released
    wait_until(lambda: rec.status()["watch"]["dirs"] == dirs0, what="watches released")
    rec.clear()
    (tmp_path / "gone" / "y" / "z.txt").write_text("not ours\n")
    (repo / "marker.txt").write_text("m\n")
    rec.sync()
    assert rec.paths() == ["marker.txt"]


def test_deleted_and_recreated_directory_is_watched_again(rec, repo):
    (repo / "d").mkdir()
    rec.start()
    dirs0 = rec.status()["watch"]["dirs"]
    subprocess.run(["rm", "-rf", str(repo / "d")], check=True)
    wait_until(lambda: rec.status()["watch"]["dirs"] == dirs0 - 1, what="watch dropped")
    (repo / "d").mkdir()
    (repo / "d" / "again.txt").write_text("x\n")
    rec.sync()
    assert rec.status()["watch"]["dirs"] == dirs0
    rec.clear()
    (repo / "d" / "again.txt").write_text("y\n")
    rec.sync()
    assert rec.paths() == ["d/again.txt"]


QUEUE_KNOB = Path("/proc/sys/fs/inotify/max_queued_events")


def _queue_knob_writable():
    try:
        old = QUEUE_KNOB.read_text()
        QUEUE_KNOB.write_text(old)
        return True
    except OSError:
        return False


def test_overflow_rescans_and_dispatches_each_changed_file_once(rec, repo, watchd):
    (repo / "pre").mkdir()
    for i in range(100):
        (repo / "pre" / f"keep{i}.txt").write_text("unchanged\n")
    for i in range(100):
        (repo / "pre" / f"edit{i}.txt").write_text("before\n")
    if not _queue_knob_writable():
        pytest.skip("/proc/sys/fs/inotify/max_queued_events is not writable here")
    old = QUEUE_KNOB.read_text()
    QUEUE_KNOB.write_text("64\n")  # read at inotify_init: only the daemon is affected
    try:
        rec.start()
    finally:
        QUEUE_KNOB.write_text(old)
    # freeze the daemon so events pile up past the queue
    pid = rec.status()["pid"]
    os.kill(pid, 19)  # SIGSTOP
    try:
        for i in range(100):
            (repo / "pre" / f"edit{i}.txt").write_text("after\n")
        (repo / "burst").mkdir()
        for i in range(500):
            (repo / "burst" / f"n{i}.txt").write_text(f"{i}\n")
        for i in range(20):
            (repo / "pre" / f"keep{i}.txt").touch()  # same content, new mtime
    finally:
        os.kill(pid, 18)  # SIGCONT
    st = rec.sync()
    assert st["watch"]["rescans"] >= 1, st["watch"]
    got = rec.paths()
    want = {f"pre/edit{i}.txt" for i in range(100)} | {f"burst/n{i}.txt" for i in range(500)}
    touched = {f"pre/keep{i}.txt" for i in range(20)}
    missing = want - set(got)
    assert not missing, f"{len(missing)} lost, e.g. {sorted(missing)[:5]}"
    dupes = [p for p in set(got) if got.count(p) > 1]
    assert not dupes, f"dispatched more than once: {dupes[:5]}"
    assert set(got) - want <= touched
    untouched = {f"pre/keep{i}.txt" for i in range(20, 100)}
    assert not (set(got) & untouched), "a file that did not change was dispatched"
    edits = [r for r in rec.records() if r["path"].startswith("pre/edit")]
    assert all(r["head"] == "after\n" for r in edits)


def test_watch_limit_degrades_to_scanning(rec, repo, watchd):
    for i in range(6):
        (repo / f"d{i}").mkdir()
    gates = [{"name": "rec", "type": "command", "include": ["**"],
              "exclude": ["watch.config.json"], "command": ["record-files", "{files}"]}]
    write_config(repo, gates, debounce_ms=50, stability_ms=30)
    r = watchd("start", env_extra={"WATCHD_TEST_RECORD": str(rec.file),
                                   "WATCHD_TEST_MAX_WATCHES": "3"})
    assert r.rc == 0, str(r)
    st = rec.status()
    assert st["watch"]["degraded"] is True
    log = (repo / ".watchd" / "watchd.log").read_text()
    assert "max_user_watches" in log and "sysctl" in log
    assert log.count("inotify watch limit reached") == 1
    for i in range(6):
        (repo / f"d{i}" / "f.txt").write_text("x\n")
    want = {f"d{i}/f.txt" for i in range(6)}
    wait_until(lambda: want <= set(rec.paths()), timeout=20, what="every file dispatched")


def test_gitignored_directories_get_no_watch(rec, repo):
    (repo / ".gitignore").write_text("node_modules/\n*.log\n")
    nm = repo / "node_modules"
    for i in range(30):
        (nm / f"pkg{i}").mkdir(parents=True)
    commit_all(repo)
    rec.start()
    st = rec.status()
    assert st["watch"]["dirs"] == 1, st["watch"]  # ROOT only
    (nm / "pkg1" / "index.js").write_text("x\n")
    (repo / "debug.log").write_text("noise\n")
    (repo / ".notes.swp").write_text("swap\n")
    (repo / "backup~").write_text("old\n")
    (repo / "4913").write_text("")
    (repo / "real.txt").write_text("r\n")
    rec.sync()
    assert rec.paths() == ["real.txt"]


def test_gitignore_change_takes_effect_without_restart(rec, repo):
    (repo / ".gitignore").write_text("gen/\n")
    (repo / "gen").mkdir()
    commit_all(repo)
    rec.start()
    assert rec.status()["watch"]["dirs"] == 1
    (repo / ".gitignore").write_text("")
    rec.sync()
    wait_until(lambda: rec.status()["watch"]["dirs"] == 2, what="gen/ watched")
    rec.clear()
    (repo / "gen" / "now.txt").write_text("seen\n")
    rec.sync()
    assert rec.paths() == ["gen/now.txt"]


def _final(rec, path):
    recs = [r for r in rec.records() if r["path"] == path]
    return recs


def test_vim_style_save_dispatches_final_content_once(rec, repo):
    f = repo / "doc.txt"
    f.write_text("v1\n")
    rec.start()
    rec.sync()
    rec.clear()
    # vim with backupcopy=no: probe file, rename original to backup, write anew
    (repo / "4913").write_text("")
    os.unlink(repo / "4913")
    (repo / ".doc.txt.swp").write_text("swap")
    os.rename(f, repo / "doc.txt~")
    f.write_text("v2 final\n")
    os.unlink(repo / "doc.txt~")
    os.unlink(repo / ".doc.txt.swp")
    rec.sync()
    recs = rec.records()
    assert [r["path"] for r in recs] == ["doc.txt"]
    assert recs[0]["head"] == "v2 final\n"


def test_write_temp_then_rename_over(rec, repo):
    f = repo / "conf.ini"
    f.write_text("old\n")
    rec.start()
    rec.sync()
    rec.clear()
    tmp = repo / ".conf.ini.tmp1234"
    with open(tmp, "w") as fh:
        fh.write("new contents\n")
    os.rename(tmp, f)
    rec.sync()
    recs = rec.records()
    assert [r["path"] for r in recs] == ["conf.ini"]
    assert recs[0]["head"] == "new contents\n"


def test_truncate_then_write(rec, repo):
    f = repo / "t.txt"
    f.write_text("original content\n")
    rec.start()
    rec.sync()
    rec.clear()
    with open(f, "r+") as fh:
        fh.truncate(0)
        fh.flush()
        os.fsync(fh.fileno())
        fh.write("rewritten\n")
    rec.sync()
    recs = rec.records()
    assert len(recs) == 1 and recs[0]["head"] == "rewritten\n"


def test_slow_writer_is_not_dispatched_half_written(rec, repo):
    rec.start(debounce_ms=50, stability_ms=30)
    path = repo / "slow.dat"
    done = threading.Event()

    def writer():
        with open(path, "w") as fh:
            for i in range(3):
                fh.write(f"chunk {i}\n" * 100)
                fh.flush()
                time.sleep(0.65)  # the writer's own pace, not a wait for watchd
            fh.write("END\n")
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    t.join()
    assert done.is_set()
    rec.sync()
    recs = _final(rec, "slow.dat")
    assert len(recs) == 1, recs
    assert recs[0]["size"] == path.stat().st_size


def test_checkout_is_one_batch(rec, repo, watchd):
    git(repo, "checkout", "-q", "-b", "many")
    (repo / "src").mkdir()
    for i in range(800):
        (repo / "src" / f"m{i}.txt").write_text(f"{i}\n")
    commit_all(repo, "many files")
    git(repo, "checkout", "-q", "main")
    rec.start()
    git(repo, "checkout", "-q", "many")
    rec.sync()
    r = watchd("log", "--json", "--limit", "50")
    runs = [x for x in r.json if x["trigger"] == "watch"]
    assert len(runs) == 1, [len(x["gates"][0]["files"]) for x in runs]
    assert len(set(rec.paths())) == 800


def test_symlinks_not_followed_loop_harmless_change_reported(rec, repo):
    (repo / "a").mkdir()
    os.symlink("..", repo / "a" / "loop")
    os.symlink("a", repo / "alias")
    rec.start()
    st = rec.status()
    assert st["watch"]["dirs"] == 2  # ROOT and a; no walk through the links
    os.unlink(repo / "alias")
    os.symlink("README.md", repo / "alias")
    rec.sync()
    assert "alias" in rec.paths()


def test_status_sync_sees_every_earlier_change(rec, repo):
    rec.start()
    for round_ in range(5):
        rec.clear()
        names = [f"s{round_}_{i}.txt" for i in range(20)]
        for n in names:
            (repo / n).write_text(n)
        rec.sync()
        assert set(rec.paths()) == set(names)


def _ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_idle_costs_no_cpu(rec, repo):
    st = rec.start()
    pid = st["pid"]
    rec.sync()
    before = _ticks(pid)
    # a quiet interval is the thing being measured, not a wait for a result
    time.sleep(3)
    assert _ticks(pid) - before == 0


INSTANCES_KNOB = Path("/proc/sys/fs/inotify/max_user_instances")


def _hold_inotify_instance():
    """An inotify instance of our own, so the user's count is at least 1."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init()
    assert fd >= 0
    return fd


def test_instance_limit_gives_a_clear_message(repo, watchd):
    try:
        old = INSTANCES_KNOB.read_text()
        INSTANCES_KNOB.write_text(old)
    except OSError:
        pytest.skip("max_user_instances is not writable here")
    write_config(repo, [], debounce_ms=50)
    held = _hold_inotify_instance()
    # at or below what is in use: the next inotify_init of this user fails
    INSTANCES_KNOB.write_text("1\n")
    try:
        r = watchd("start")
    finally:
        INSTANCES_KNOB.write_text(old)
        os.close(held)
    assert r.rc == 4, str(r)
    assert "max_user_instances" in r.stderr and "sysctl" in r.stderr


def test_overflow_storm_backs_off(rec, repo):
    """Repeated overflows must not turn into back-to-back full rescans."""
    if not _queue_knob_writable():
        pytest.skip("/proc/sys/fs/inotify/max_queued_events is not writable here")
    old = QUEUE_KNOB.read_text()
    QUEUE_KNOB.write_text("16\n")
    try:
        st = rec.start()
    finally:
        QUEUE_KNOB.write_text(old)
    pid = st["pid"]
    for round_ in range(6):
        os.kill(pid, 19)
        try:
            for i in range(100):
                (repo / f"r{round_}_{i}.txt").write_text("x")
        finally:
            os.kill(pid, 18)
    st = rec.sync()
    w = st["watch"]
    assert w["overflows"] >= 1
    assert w["rescans"] <= w["overflows"]
    assert len(set(rec.paths())) == 600
