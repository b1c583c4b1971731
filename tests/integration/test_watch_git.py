"""Git operations: while git holds .git/index.lock or a rebase or merge is
in progress, dispatch waits; when it ends, the net change goes out as one
batch (one run)."""
import os
import subprocess
import time

from conftest import commit_all, git, requires, wait_until

pytestmark = requires("start", "status", "stop")


def _git_env():
    e = dict(os.environ)
    e.update(GIT_EDITOR="true", GIT_SEQUENCE_EDITOR="true")
    for k in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        e.pop(k, None)
    return e


def _quiet_for(rec, seconds):
    """Nothing is dispatched over `seconds`: the interval is what is
    measured (many debounce periods), not a wait for a result."""
    time.sleep(seconds)
    return rec.paths()


def test_index_lock_defers_dispatch_then_one_batch(rec, repo):
    rec.start()
    rec.sync()
    runs0 = len(rec.watch_runs())
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    try:
        names = [f"l{i}.txt" for i in range(30)]
        for n in names:
            (repo / n).write_text(n)
        wait_until(lambda: rec.status()["watch"]["git_busy"], what="git_busy")
        assert _quiet_for(rec, 1.0) == [], "dispatched while index.lock existed"
        st = rec.status()
        assert st["queue"]["pending_files"] >= 30, st["queue"]
    finally:
        lock.unlink()
    rec.sync()
    assert sorted(rec.paths()) == sorted(names)
    assert len(rec.watch_runs()) == runs0 + 1


def test_rebase_in_progress_is_one_batch(rec, repo):
    """A rebase whose steps pause (here an --exec between picks) leaves
    index.lock free for longer than the debounce: the rebase state keeps
    dispatch waiting until it ends."""
    git(repo, "checkout", "-q", "-b", "topic")
    for k in range(3):
        for i in range(20):
            (repo / f"t{k}_{i}.txt").write_text(f"{k} {i}\n")
        commit_all(repo, f"topic {k}")
    git(repo, "checkout", "-q", "main")
    (repo / "base.txt").write_text("base\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "topic")
    rec.start()
    rec.sync()
    rec.clear()
    runs0 = len(rec.watch_runs())
    subprocess.run(["git", "-C", str(repo), "rebase", "-q", "--exec", "sleep 0.5", "main"],
                   check=True, env=_git_env(), capture_output=True)
    rec.sync()
    runs = rec.watch_runs()
    assert len(runs) == runs0 + 1, [len(x["gates"][0]["files"]) for x in runs[:len(runs) - runs0]]
    got = rec.paths()
    assert "base.txt" in got and len(got) == len(set(got))


def test_merge_in_progress_defers_dispatch(rec, repo):
    """Between the work tree update and the commit of a merge (hooks, or a
    --no-commit merge) MERGE_HEAD exists: dispatch waits for the commit."""
    git(repo, "checkout", "-q", "-b", "topic")
    for i in range(20):
        (repo / f"m{i}.txt").write_text(f"{i}\n")
    commit_all(repo, "topic")
    git(repo, "checkout", "-q", "main")
    (repo / "other.txt").write_text("o\n")
    commit_all(repo, "main side")
    rec.start()
    rec.sync()
    rec.clear()
    runs0 = len(rec.watch_runs())
    subprocess.run(["git", "-C", str(repo), "merge", "-q", "--no-ff", "--no-commit", "topic"],
                   check=True, env=_git_env(), capture_output=True)
    assert (repo / ".git" / "MERGE_HEAD").exists()
    wait_until(lambda: rec.status()["watch"]["git_busy"], timeout=3, what="git_busy")
    assert _quiet_for(rec, 1.0) == [], "dispatched in the middle of a merge"
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--no-edit"],
                   check=True, env=_git_env(), capture_output=True)
    rec.sync()
    assert sorted(rec.paths()) == sorted(f"m{i}.txt" for i in range(20))
    assert len(rec.watch_runs()) == runs0 + 1
