"""The tree itself disappears: when ROOT is deleted or moved away while
watched, `status` says so (degraded, reason "root removed"), asked at the
path the daemon watched, and never claims a healthy watch. When ROOT is
back, it is rescanned and edits are judged again. A deleted config is
reported in status and the log, and the running config stays."""
import shutil

from conftest import wait_until

GATE = {"name": "rec", "type": "command", "include": ["**/*.txt"],
        "command": ["record-files", "{files}"], "timeout_s": 60}


def status_at(watchd, root):
    r = watchd("--root", str(root), "status", "--json", cwd="/")
    assert r.rc in (0, 1), str(r)
    return r.json


def gone(watchd, root):
    st = status_at(watchd, root)
    w = st["watch"]
    return st if w["degraded"] and w.get("degraded_reason", "").startswith("root removed") \
        else None


def test_root_moved_away_and_back(repo, rec, watchd, tmp_path):
    rec.start(gates=[GATE])
    (repo / "sub").mkdir()
    (repo / "sub" / "a.txt").write_text("a\n")
    rec.sync()
    away = tmp_path / "away"
    repo.rename(away)
    st = wait_until(lambda: gone(watchd, repo), what="status saying root removed")
    assert "moved away" in st["watch"]["degraded_reason"]
    text = watchd("--root", str(repo), "status", cwd="/")
    assert "DEGRADED" in text.stdout and "root removed" in text.stdout, str(text)
    (away / "sub" / "b.txt").write_text("b\n")  # edited while away
    away.rename(repo)
    wait_until(lambda: not status_at(watchd, repo)["watch"]["degraded"], timeout=30,
               what="the watch healthy again")
    # no rec.clear(): the rescan may judge b.txt before this line runs;
    # b.txt and c.txt exist only from here on, so any record of them counts
    (repo / "sub" / "c.txt").write_text("c\n")
    rec.sync()
    assert {"sub/b.txt", "sub/c.txt"} <= set(rec.paths()), rec.paths()


def test_root_deleted_and_recreated(repo, rec, watchd):
    rec.start(gates=[GATE])
    (repo / "x.txt").write_text("x\n")
    rec.sync()
    cfg = (repo / "watch.config.json").read_text()
    shutil.rmtree(repo)
    # the root's removal is seen at once; the config's, after the debounce
    st = wait_until(lambda: (lambda s: s if s and s["config_error"] else None)(
        gone(watchd, repo)), what="status saying root removed, and the config error")
    assert st["running"] is True and st["watch"]["dirs"] == 0
    assert "watch.config.json" in st["config_error"]
    (repo / "new").mkdir(parents=True)
    (repo / "watch.config.json").write_text(cfg)
    (repo / "new" / "y.txt").write_text("y\n")
    wait_until(lambda: not status_at(watchd, repo)["watch"]["degraded"], timeout=30,
               what="the watch healthy again")
    (repo / "new" / "z.txt").write_text("z\n")
    rec.sync()
    assert {"new/y.txt", "new/z.txt"} <= set(rec.paths()), rec.paths()


def test_deleted_config_is_reported_and_the_running_one_stays(repo, rec, watchd):
    rec.start(gates=[GATE])
    (repo / "watch.config.json").unlink()
    st = wait_until(lambda: (lambda s: s if s["config_error"] else None)(rec.status()),
                    what="config_error in status")
    assert "watch.config.json" in st["config_error"]
    assert "config not reloaded" in rec.log()
    rec.clear()
    (repo / "still.txt").write_text("judged by the running config\n")
    rec.sync()
    assert "still.txt" in rec.paths()
