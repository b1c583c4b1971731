"""Ignore rules outside the tree's .gitignore files take effect live:
.git/info/exclude and core.excludesFile. A directory they stop ignoring
gets its watch, one they start ignoring loses it."""
from conftest import commit_all, git, requires, wait_until

pytestmark = requires("start", "status", "stop")


def _check_live_rules(rec, repo, rules, **start):
    """rules: the file whose edits must take effect. Starts with gen/ and
    *.tmp ignored by it."""
    rules.write_text("gen/\n*.tmp\n")
    (repo / "gen").mkdir()
    commit_all(repo)
    rec.start(**start)
    assert rec.status()["watch"]["dirs"] == 1
    (repo / "a.tmp").write_text("ignored\n")
    (repo / "real.txt").write_text("r\n")
    rec.sync()
    assert rec.paths() == ["real.txt"]
    rules.write_text("# nothing ignored any more\n")
    wait_until(lambda: rec.status()["watch"]["dirs"] == 2, what="gen/ watched")
    rec.sync()
    rec.clear()
    (repo / "gen" / "now.txt").write_text("seen\n")
    (repo / "b.tmp").write_text("seen too\n")
    rec.sync()
    assert sorted(rec.paths()) == ["b.tmp", "gen/now.txt"]
    rules.write_text("gen/\n")
    wait_until(lambda: rec.status()["watch"]["dirs"] == 1, what="gen/ unwatched again")
    rec.sync()
    rec.clear()
    (repo / "gen" / "later.txt").write_text("hidden\n")
    (repo / "c.tmp").write_text("c\n")
    rec.sync()
    assert rec.paths() == ["c.tmp"]


def test_info_exclude_change_takes_effect_without_restart(rec, repo):
    info = repo / ".git" / "info"
    info.mkdir(exist_ok=True)
    _check_live_rules(rec, repo, info / "exclude")


def test_core_excludes_file_change_takes_effect_without_restart(rec, repo, tmp_path):
    home = tmp_path / "home"  # the user's own git config stays out of it
    home.mkdir()
    excl = tmp_path / "excl" / "ignore"
    excl.parent.mkdir()
    git(repo, "config", "core.excludesFile", str(excl))
    _check_live_rules(rec, repo, excl, env_extra={"HOME": str(home),
                                                  "XDG_CONFIG_HOME": str(home / ".config")})


def test_info_directory_created_later_is_watched(rec, repo):
    """A repository without .git/info (git init --template=): git makes it
    later, and its exclude file counts from then on."""
    info = repo / ".git" / "info"
    for p in sorted(info.glob("*")):
        p.unlink()
    info.rmdir()
    (repo / "gen").mkdir()
    rec.start()
    assert rec.status()["watch"]["dirs"] == 2
    info.mkdir()
    (info / "exclude").write_text("gen/\n")
    wait_until(lambda: rec.status()["watch"]["dirs"] == 1, what="gen/ ignored")
