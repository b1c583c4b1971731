"""Watching that never misses: tree changes, overflow, watch limits, ignores,
editor saves, git operations, sync, symlinks. Each test runs the real daemon on
a real temp tree; a recorder gate (tests/tools/record-files) writes down every
file it is given and what the file held, so "exactly one dispatch of the final
content" is checked on what the tool actually saw."""
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import commit_all, git, requires, wait_until, write_config

pytestmark = requires("start", "status", "stop")


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


def start_with_small_queue(rec, how, size, **cfg):
    """Starts the daemon with an inotify queue of `size` events: the real
    max_queued_events (read at inotify_init, so only this daemon is
    affected; restored at once) or, where it cannot be written, the
    WATCHD_TEST_QUEUE_MAX hook, which drops what such a queue would."""
    if how == "hook":
        return rec.start(env_extra={"WATCHD_TEST_QUEUE_MAX": str(size)}, **cfg)
    if not _queue_knob_writable():
        pytest.skip("/proc/sys/fs/inotify/max_queued_events is not writable here "
                    "(the hook variant covers it)")
    old = QUEUE_KNOB.read_text()
    QUEUE_KNOB.write_text(f"{size}\n")
    try:
        return rec.start(**cfg)
    finally:
        QUEUE_KNOB.write_text(old)


def stopped(pid):
    """Context: the daemon is frozen (SIGSTOP) so events pile up."""
    class _Stopped:
        def __enter__(self):
            os.kill(pid, signal.SIGSTOP)

        def __exit__(self, *exc):
            os.kill(pid, signal.SIGCONT)
    return _Stopped()


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_overflow_rescans_and_dispatches_each_changed_file_once(rec, repo, how):
    (repo / "pre").mkdir()
    for i in range(100):
        (repo / "pre" / f"keep{i}.txt").write_text("unchanged\n")
    for i in range(100):
        (repo / "pre" / f"edit{i}.txt").write_text("before\n")
    pid = start_with_small_queue(rec, how, 64)["pid"]
    with stopped(pid):
        for i in range(100):
            (repo / "pre" / f"edit{i}.txt").write_text("after\n")
        (repo / "burst").mkdir()
        for i in range(500):
            (repo / "burst" / f"n{i}.txt").write_text(f"{i}\n")
        for i in range(20):
            (repo / "pre" / f"keep{i}.txt").touch()  # same content, new mtime
    st = rec.sync()
    assert st["watch"]["overflows"] >= 1, st["watch"]
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


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_full_speed_rewrites_all_reach_the_gate_without_a_sync(rec, repo, how):
    """A formatter's pace: thousands of files rewritten in place as fast as
    one writer can, two events each, against a 1024-event kernel queue.
    The reader thread drains the kernel queue into its own and the loop
    takes a slice of it per turn; every file must reach the gate with
    nothing after the burst to wake the daemon (no sync, no probe): a
    wake-up folded into one the loop had already taken once left the
    queue's tail unread until the next event."""
    n = 6000
    (repo / "src").mkdir()
    for d in range(20):
        (repo / "src" / f"d{d}").mkdir()
    names = [f"src/d{i % 20}/f{i}.txt" for i in range(n)]
    for name in names:
        (repo / name).write_text("before\n")
    start_with_small_queue(rec, how, 1024)
    for name in names:
        fd = os.open(repo / name, os.O_WRONLY)
        os.write(fd, b"after " + name.encode() + b"\n")
        os.close(fd)
    want = set(names)
    wait_until(lambda: want <= set(rec.paths()), timeout=120,
               what="every rewritten file handed to the gate")
    last = {r["path"]: r["head"] for r in rec.records()}
    stale = [p for p in names if not last[p].startswith("after ")]
    assert not stale, f"{len(stale)} judged on old content, e.g. {stale[:3]}"


def _overflow_round(rec, repo, pid, tag, n=100):
    """Freezes the daemon, moves n new files into the tree (one event each,
    so a file is either seen whole or lost), thaws it and waits until it
    has counted the overflow. Returns the file names."""
    before = rec.status()["watch"]["overflows"]
    stage = repo.parent / f"stage-{tag}"
    stage.mkdir()
    names = [f"{tag}_{i}.txt" for i in range(n)]
    for name in names:
        (stage / name).write_text(name)
    with stopped(pid):
        for name in names:
            os.rename(stage / name, repo / name)
    stage.rmdir()
    wait_until(lambda: rec.status()["watch"]["overflows"] > before, what=f"overflow {tag}")
    return names


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_sync_waits_for_a_backed_off_rescan(rec, repo, how):
    """Each overflow soon after a rescan doubles the wait before the next;
    a sync that starts while the rescan waits must wait for it too, or it
    answers before the lost changes are dispatched."""
    pid = start_with_small_queue(rec, how, 16)["pid"]
    want = set()
    for round_ in range(6):
        want |= set(_overflow_round(rec, repo, pid, f"w{round_}"))
        st = rec.sync()
        missing = want - set(rec.paths())
        assert not missing, (f"round {round_}: sync answered with {len(missing)} lost "
                             f"changes not dispatched (e.g. {sorted(missing)[:3]}); {st['watch']}")
    assert st["watch"]["rescans"] >= 2


def test_watch_limit_degrades_to_scanning(rec, repo, watchd):
    for i in range(6):
        (repo / f"d{i}").mkdir()
    gates = [{"name": "rec", "type": "command", "include": ["**"],
              "exclude": ["watch.config.json"], "command": ["record-files", "{files}"]}]
    write_config(repo, gates, debounce_ms=50, stability_ms=30)
    r = watchd("start", env_extra={"WATCHD_TEST_RECORD": str(rec.file),
                                   "WATCHD_TEST_MAX_WATCHES": "3"})
    assert r.rc == 0, str(r)
    # the starter says so, not only the log
    assert "warning: inotify watch limit reached" in r.stderr, str(r)
    assert "max_user_watches" in r.stderr, str(r)
    st = rec.status()
    assert st["watch"]["degraded"] is True
    log = rec.log()
    assert "max_user_watches" in log and "sysctl" in log
    assert log.count("inotify watch limit reached") == 1
    # ROOT and d0..d5: the user learns what the tree needs, not what it got
    assert "this tree needs ~7 watches" in log, log
    assert "inotify watch limit reached" in st["watch"]["degraded_reason"]
    for i in range(6):
        (repo / f"d{i}" / "f.txt").write_text("x\n")
    want = {f"d{i}/f.txt" for i in range(6)}
    wait_until(lambda: want <= set(rec.paths()), timeout=20, what="every file dispatched")


WATCHES_KNOB = Path("/proc/sys/fs/inotify/max_user_watches")


def _watches_in_use():
    """inotify watches held by processes of this user (the limit counts them all)."""
    n, uid = 0, os.getuid()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if d.stat().st_uid != uid:
                continue
            for fd in (d / "fdinfo").iterdir():
                n += sum(1 for line in fd.read_text().splitlines()
                         if line.startswith("inotify wd:"))
        except OSError:
            continue
    return n


def test_real_watch_limit_degrades_to_scanning(rec, repo, watchd):
    """The same with the kernel's own limit: max_user_watches lowered to what
    this user holds plus three while the daemon starts, then restored."""
    if not os.access(WATCHES_KNOB, os.W_OK):
        pytest.skip("/proc/sys/fs/inotify/max_user_watches is not writable here "
                    "(test_watch_limit_degrades_to_scanning covers it with the hook)")
    for i in range(6):
        (repo / f"d{i}").mkdir()
    gates = [{"name": "rec", "type": "command", "include": ["**"],
              "exclude": ["watch.config.json"], "command": ["record-files", "{files}"]}]
    write_config(repo, gates, debounce_ms=50, stability_ms=30)
    old = WATCHES_KNOB.read_text()
    limit = _watches_in_use() + 3
    WATCHES_KNOB.write_text(f"{limit}\n")
    try:
        r = watchd("start", env_extra={"WATCHD_TEST_RECORD": str(rec.file)})
    finally:
        WATCHES_KNOB.write_text(old)
    assert r.rc == 0, str(r)
    st = rec.status()
    assert st["watch"]["degraded"] is True, st["watch"]
    log = rec.log()
    assert "max_user_watches" in log and "sysctl" in log, log
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


@pytest.mark.parametrize("loop", ["prompt", "behind"])
def test_checkout_is_one_batch(rec, repo, watchd, loop):
    """A checkout touching 5,000 files is one run, with one task per gate,
    also when the loop falls behind the events (a slow machine): the ones
    it has not handled yet when git is done are part of the same batch."""
    git(repo, "checkout", "-q", "-b", "many")
    (repo / "src").mkdir()
    (repo / "doc").mkdir()
    for i in range(4000):
        (repo / "src" / f"m{i}.txt").write_text(f"{i}\n")
    for i in range(1000):
        (repo / "doc" / f"d{i}.md").write_text(f"{i}\n")
    commit_all(repo, "many files")
    git(repo, "checkout", "-q", "main")
    gates = [{"name": g, "type": "command", "include": [inc],
              "command": ["record-files", "{files}"], "timeout_s": 120}
             for g, inc in (("txt", "src/**"), ("md", "doc/**"))]
    rec.start(gates=gates,
              env_extra={"WATCHD_TEST_TURN_MS": "20"} if loop == "behind" else None)
    git(repo, "checkout", "-q", "many")
    rec.sync(timeout=120)
    runs = rec.watch_runs()
    assert len(runs) == 1, [[(g["name"], len(g["files"])) for g in x["gates"]] for x in runs]
    r = watchd("show", runs[0]["id"], "--json")
    by_gate = {}
    for g in r.json["gates"]:
        by_gate.setdefault(g["name"], []).append(g)
    assert sorted(by_gate) == ["md", "txt"], by_gate.keys()
    assert all(len(v) == 1 for v in by_gate.values()), "a gate ran twice in the run"
    assert len(by_gate["txt"][0]["files"]) == 4000
    assert len(by_gate["md"][0]["files"]) == 1000
    got = rec.paths()
    assert len(got) == 5000 and len(set(got)) == 5000
    # the content ids of a batch this big are taken in parts, side by
    # side: each file still has its own, as git has it
    tree = {}
    for line in git(repo, "ls-tree", "-r", "many").splitlines():
        meta, path = line.split("\t", 1)
        tree[path] = meta.split()[2]
    db = sqlite3.connect(f"file:{repo / '.watchd' / 'ledger.db'}?mode=ro", uri=True)
    blobs = dict(db.execute("SELECT path, blob FROM gate_files"))
    db.close()
    assert len(blobs) == 5000
    assert all(blobs[p] == tree[p] for p in blobs), \
        [(p, blobs[p], tree.get(p)) for p in blobs if blobs[p] != tree.get(p)][:5]


def test_checkout_beside_a_steady_writer_is_one_batch(rec, repo):
    """git writes 3,000 files under index.lock and is done while another
    process keeps writing (a log, a build): the checkout's files are quiet
    and git's lock is gone, but the burst was git's, so it goes out whole
    once the writes stop, not in the parts a churn pass takes (each churn
    tick right after a checkout used to split it)."""
    rec.start()
    lock = repo / ".git" / "index.lock"
    lock.write_bytes((repo / ".git" / "index").read_bytes())
    (repo / "co").mkdir()
    for i in range(3000):
        (repo / "co" / f"f{i}.txt").write_text(f"{i}\n")
    os.rename(lock, repo / ".git" / "index")  # git's commit of the lock
    # a writer that never pauses for the debounce (50 ms): churn ticks
    # come every 50 ms while its events do
    end = time.monotonic() + 0.4
    n = 0
    while time.monotonic() < end:
        (repo / "steady.log").write_text(f"{n}\n")
        n += 1
        time.sleep(0.01)  # the writer's own pace, not a wait for watchd
    rec.sync(timeout=120)
    runs = rec.watch_runs()
    sizes = [sum(len(g["files"]) for g in r["gates"]) for r in runs]
    with_co = [r for r in runs
               if any(f.startswith("co/") for g in r["gates"] for f in g["files"])]
    assert len(with_co) == 1, sizes
    got = [p for p in rec.paths() if p.startswith("co/")]
    assert len(got) == 3000 and len(set(got)) == 3000


def test_moved_subtree_with_many_subdirectories_forgets_every_file(rec, repo, tmp_path):
    """A directory with more subdirectories than any fixed stack would hold
    is moved out, then one is renamed: every file under the old paths is
    reported removed, so status keeps no failing file that is gone."""
    # each file named in a finding: a batch that failed naming none would be
    # bisected down to single files, 1,200 processes this test is not about
    gates = [{"name": "fail", "type": "command", "include": ["big/**", "wide/**"],
              "command": ["sh", "-c", 'for f; do echo "$f:1:1: error: failing"; done; exit 1',
                          "sh", "{files}"], "parser": "gcc", "timeout_s": 120}]
    rec.start(gates=gates)
    for name in ("big", "wide"):
        for i in range(300):
            (repo / name / f"s{i}").mkdir(parents=True)
            (repo / name / f"s{i}" / "f.txt").write_text("x\n")
    rec.sync(timeout=120)

    def failing():
        g = [x for x in rec.status()["gates"] if x["name"] == "fail"]
        return g[0]["failing_files"] if g else 0
    assert failing() == 600
    os.rename(repo / "big", tmp_path / "big-gone")
    os.rename(repo / "wide", repo / "elsewhere")
    rec.sync(timeout=120)
    wait_until(lambda: failing() == 0, what="every moved file forgotten")
    assert rec.status()["watch"]["dirs"] == 1 + 1 + 300  # ROOT, elsewhere, its subdirs


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
    time.sleep(20)
    assert _ticks(pid) - before == 0


def test_inotify_reader_asks_for_a_short_slice(rec, repo):
    """The thread that drains inotify takes the core at once when it wakes
    (a writer at full speed fills a small kernel queue in milliseconds):
    it asks for the shortest slice, which kernels since 6.12 honour."""
    pid = rec.start()["pid"]
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            names[f.read().strip()] = tid
    assert "watchd-inotify" in names, names
    try:
        with open(f"/proc/{pid}/task/{names['watchd-inotify']}/sched") as f:
            sched = f.read()
    except OSError:
        pytest.skip("no /proc/PID/task/TID/sched (kernel built without sched debug)")
    m = re.search(r"^se\.slice\s*:\s*(\d+)", sched, re.M)
    if m is None:
        pytest.skip("this kernel shows no se.slice (before 6.12: no custom slices)")
    assert int(m.group(1)) == 100000, sched


def test_sync_covers_unwatched_directories(rec, repo, watchd):
    """A degraded (polled) directory is listed when a sync begins, so its
    changes are dispatched before the sync answers, not at the next poll."""
    for i in range(6):
        (repo / f"d{i}").mkdir()
    rec.start(env_extra={"WATCHD_TEST_MAX_WATCHES": "3"})
    assert rec.status()["watch"]["unwatched_dirs"] >= 4
    for round_ in range(3):
        want = {f"d{i}/r{round_}.txt" for i in range(6)}
        for p in want:
            (repo / p).write_text(p)
        rec.sync()
        missing = want - set(rec.paths())
        assert not missing, f"round {round_}: sync answered before {sorted(missing)}"


INSTANCES_KNOB = Path("/proc/sys/fs/inotify/max_user_instances")


def _hold_inotify_instance():
    """An inotify instance of our own, so the user's count is at least 1."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init()
    assert fd >= 0
    return fd


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_instance_limit_degrades_to_scanning_the_tree(rec, repo, how):
    """No inotify instance (max_user_instances reached): one clear message,
    and watching goes on by scanning the whole tree."""
    (repo / "sub").mkdir()
    if how == "hook":
        rec.start(env_extra={"WATCHD_TEST_NO_INOTIFY": "1"})
    else:
        try:
            old = INSTANCES_KNOB.read_text()
            INSTANCES_KNOB.write_text(old)
        except OSError:
            pytest.skip("max_user_instances is not writable here (the hook variant covers it)")
        held = _hold_inotify_instance()
        # at or below what is in use: the next inotify_init of this user fails
        INSTANCES_KNOB.write_text("1\n")
        try:
            rec.start()
        finally:
            INSTANCES_KNOB.write_text(old)
            os.close(held)
    st = rec.status()
    w = st["watch"]
    assert w["degraded"] is True and w["backend"] == "scan" and w["dirs"] == 0, w
    log = rec.log()
    assert log.count("no inotify instance") == 1, log
    # the starter warns as well
    assert "warning:" in rec.started.stderr and "max_user_instances" in rec.started.stderr, \
        str(rec.started)
    msg = w["degraded_reason"]
    assert "fs.inotify.max_user_instances=" in msg and "sudo sysctl" in msg, msg
    assert re.search(r"max_user_instances=\d+", msg), msg
    (repo / "top.txt").write_text("t\n")
    (repo / "sub" / "deep.txt").write_text("d\n")
    wait_until(lambda: {"top.txt", "sub/deep.txt"} <= set(rec.paths()), timeout=20,
               what="changes dispatched by scanning")
    rec.clear()
    (repo / "sub" / "later.txt").write_text("l\n")
    rec.sync()  # no cookie can be seen: the sync lists the tree itself
    assert rec.paths() == ["sub/later.txt"]


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_ignore_edits_do_not_delay_an_overflow_rescan(rec, repo, how):
    """Rescans after .gitignore edits back off on their own: a series of
    edits must not make the next overflow wait seconds for its rescan."""
    pid = start_with_small_queue(rec, how, 16)["pid"]
    rescans = rec.status()["watch"]["rescans"]
    for i in range(7):
        (repo / ".gitignore").write_text(f"gen{i}/\n")
        wait_until(lambda seen=rescans: rec.status()["watch"]["rescans"] > seen, timeout=30,
                   what=f"the rescan for edit {i}")
        rescans = rec.status()["watch"]["rescans"]
    rec.sync()
    rescans = rec.status()["watch"]["rescans"]
    t0 = time.monotonic()
    names = _overflow_round(rec, repo, pid, "after-edits")
    wait_until(lambda: rec.status()["watch"]["rescans"] > rescans, what="the overflow's rescan")
    waited = time.monotonic() - t0
    assert waited < 1.5, f"the overflow's rescan waited {waited:.1f}s behind ignore edits"
    rec.sync()
    assert set(names) <= set(rec.paths())


@pytest.mark.parametrize("how", ["knob", "hook"])
def test_overflow_storm_backs_off(rec, repo, how):
    """Under a sustained storm, rescans grow slower than overflows (each
    one soon after the last waits twice as long), and nothing is lost."""
    pid = start_with_small_queue(rec, how, 16)["pid"]
    want = set()
    for round_ in range(12):
        want |= set(_overflow_round(rec, repo, pid, f"r{round_}", n=60))
    st = rec.sync()
    w = st["watch"]
    assert w["overflows"] >= 12, w
    # fewer rescans than overflows: how many fewer depends on how fast
    # the rounds come (a loaded machine spaces them past the back-off)
    assert 1 <= w["rescans"] < w["overflows"], w
    missing = want - set(rec.paths())
    assert not missing, f"{len(missing)} lost"
    assert rec.log().count("rescan done") == w["rescans"]


def test_changes_during_the_initial_scan_are_replayed(rec, repo):
    """The initial scan blocks the loop; what the kernel reports meanwhile
    for directories already watched is read during the scan and replayed
    when the loop starts, its debounce counted from the read. The hook
    pauses the scan right after ROOT got its watch."""
    for i in range(5):
        (repo / f"d{i}").mkdir()
        (repo / f"d{i}" / "x.txt").write_text("x\n")
    (repo / "old.txt").write_text("old\n")
    marker = repo / ".watchd" / "scan-paused"
    errors = []

    def start():
        try:
            rec.start(env_extra={"WATCHD_TEST_SCAN_PAUSE_MS": "1500"})
        except AssertionError as e:  # re-raised below, in the test's thread
            errors.append(e)

    t = threading.Thread(target=start)
    t.start()
    wait_until(marker.exists, timeout=30, what="the initial scan to pause")
    (repo / "during.txt").write_text("new\n")
    (repo / "old.txt").write_text("changed\n")
    t.join(90)
    assert not t.is_alive() and not errors, errors
    rec.sync()
    assert sorted(rec.paths()) == ["during.txt", "old.txt"]
    assert "events read during the initial scan" in rec.log()
