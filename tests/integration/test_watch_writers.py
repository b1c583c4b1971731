"""Open writers: a file is dispatched once its writer is done with it, also
when the watcher only found it by listing a directory (no events before the
watch existed) and when no close will ever come (hard links); a writer that
never closes is let through after writer_timeout_ms."""
import os
import time

import pytest

from conftest import requires, wait_until

pytestmark = requires("start", "status", "stop")


def _of(rec, path):
    return [r for r in rec.records() if r["path"] == path]


def test_slow_writer_in_a_new_directory_is_dispatched_once_complete(rec, repo):
    """The directory and the open file exist before the daemon can watch
    them, so no event says a writer has it: the listing must not count as
    a close."""
    rec.start(writer_timeout_ms=10000)
    os.makedirs(repo / "nd")
    with open(repo / "nd" / "s.dat", "w") as f:
        f.write("part1\n" * 50)
        f.flush()
        time.sleep(0.8)  # the writer's own pace, not a wait for watchd
        f.write("part2\n" * 50)
        f.flush()
        time.sleep(0.8)
        f.write("END\n")
    rec.sync()
    recs = _of(rec, "nd/s.dat")
    assert len(recs) == 1, [(r["size"], r["t"]) for r in recs]
    assert recs[0]["size"] == (repo / "nd" / "s.dat").stat().st_size == 604


def test_hard_link_is_dispatched_without_waiting_for_a_close(rec, repo):
    """`ln a b` gives IN_CREATE for b and never IN_CLOSE_WRITE: nobody has
    it open, so it goes out well under writer_timeout."""
    (repo / "a.txt").write_text("linked\n")
    rec.start(writer_timeout_ms=10000)
    t0 = time.monotonic()
    os.link(repo / "a.txt", repo / "b.txt")
    wait_until(lambda: _of(rec, "b.txt"), timeout=8, what="the hard link dispatched")
    assert time.monotonic() - t0 < 5
    assert _of(rec, "b.txt")[0]["head"] == "linked\n"


@pytest.mark.parametrize("where", ["known directory", "moved-in directory"])
def test_writer_that_never_closes_is_dispatched_after_writer_timeout(rec, repo, tmp_path,
                                                                     where):
    """A log stays open for ever: dispatched writer_timeout_ms after its last
    change, not before; also when only a listing found it (a directory moved
    into the tree with the open file already in it)."""
    rec.start(writer_timeout_ms=1500)
    if where == "known directory":
        path = repo / "app.log"
    else:
        (tmp_path / "logs").mkdir()
        path = tmp_path / "logs" / "app.log"
    fh = open(path, "w")
    try:
        fh.write("line 1\n")
        fh.flush()
        if where != "known directory":
            os.rename(tmp_path / "logs", repo / "logs")
            path = repo / "logs" / "app.log"
        t0 = time.monotonic()
        rel = str(path.relative_to(repo))
        got = wait_until(lambda: _of(rec, rel), timeout=15, what="the open log dispatched")
        elapsed = time.monotonic() - t0
    finally:
        fh.close()
    assert elapsed >= 1.3, f"dispatched after {elapsed:.2f}s while its writer had it open"
    assert elapsed < 8
    assert got[0]["head"] == "line 1\n"
