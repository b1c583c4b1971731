"""`check --staged` on content already judged: a cache hit starts no
process (not even `tool --version`: versions are kept in the ledger) and
writes no file; only the misses are written out, and only when the work
tree does not hold them as staged."""
import json
import os
import stat

from conftest import git, write_config

FAKE_RUFF = r'''#!/usr/bin/python3
import json, os, sys
with open(os.environ["FAKE_RUFF_LOG"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\n")
if "--version" in sys.argv[1:]:
    print("ruff 9.9.9")
    sys.exit(0)
out = []
for p in sys.argv[1:]:
    if p.endswith(".py"):
        with open(p) as fh:
            if "bad" in fh.read():
                out.append({"code": "E999", "message": "bad", "filename": os.path.abspath(p),
                            "location": {"row": 1, "column": 1},
                            "end_location": {"row": 1, "column": 2}, "fix": None,
                            "url": None, "noqa_row": 1})
print(json.dumps(out))
sys.exit(1 if out else 0)
'''

RUFF_GATE = {"name": "ruff", "type": "ruff", "include": ["**/*.py"],
             "config_files": ["ruff.toml"]}


def install_fake_ruff(repo, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    tool = bindir / "ruff"
    tool.write_text(FAKE_RUFF)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "ruff.log"
    log.write_text("")
    extra = {"PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
             "FAKE_RUFF_LOG": str(log)}
    write_config(repo, [RUFF_GATE])
    return log, extra


def starts(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def snapshot(repo):
    """Every path under ROOT (but .git) with its mtime; the ledger's own
    files only by name: the run is recorded there."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, repo)
            st = os.lstat(p)
            out[rel] = None if name.startswith("ledger.db") or \
                rel == os.path.join(".watchd") else st.st_mtime_ns
    return out


def test_warm_check_starts_nothing_and_writes_nothing(repo, watchd, tmp_path):
    log, extra = install_fake_ruff(repo, tmp_path)
    for i in range(5):
        (repo / f"m{i}.py").write_text(f"x = {i}\n")
    r = watchd("run", env_extra=extra)
    assert r.rc == 0, str(r)
    first = starts(log)
    assert any("--version" in s["argv"] for s in first), first
    git(repo, "add", "-A")
    before_log = log.read_text()
    before = snapshot(repo)
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    assert log.read_text() == before_log, "a warm check started a process"
    assert snapshot(repo) == before, "a warm check wrote a file"
    gate = r.json["gates"][0]
    assert gate["cached"] is True and gate["status"] == "pass"
    assert sorted(gate["files"]) == [f"m{i}.py" for i in range(5)]
    # still no process when the work tree has moved on from the staged,
    # already judged, bytes
    (repo / "m0.py").write_text("bad = 1\n")
    before = snapshot(repo)
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    assert log.read_text() == before_log
    assert snapshot(repo) == before


def test_version_probe_is_kept_in_the_ledger(repo, watchd, tmp_path):
    log, extra = install_fake_ruff(repo, tmp_path)
    (repo / "a.py").write_text("a = 1\n")
    assert watchd("run", env_extra=extra).rc == 0
    assert sum("--version" in s["argv"] for s in starts(log)) == 1
    (repo / "b.py").write_text("b = 1\n")
    assert watchd("run", env_extra=extra).rc == 0
    # a second process found the version in the ledger
    assert sum("--version" in s["argv"] for s in starts(log)) == 1
    rows = repo / ".watchd" / "ledger.db"
    import sqlite3
    db = sqlite3.connect(rows)
    (version,) = db.execute("SELECT version FROM tool_versions").fetchone()
    db.close()
    assert version == "ruff 9.9.9"


def test_misses_run_in_the_work_tree_when_it_holds_them_as_staged(repo, watchd, tmp_path):
    log, extra = install_fake_ruff(repo, tmp_path)
    (repo / "a.py").write_text("a = 1\n")
    assert watchd("run", env_extra=extra).rc == 0
    (repo / "b.py").write_text("b = 1\n")
    (repo / "c.py").write_text("c = 1\n")
    git(repo, "add", "-A")
    n = len(starts(log))
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    new = starts(log)[n:]
    assert len(new) == 1, new                 # one tool process, no probe
    assert new[0]["cwd"] == str(repo)         # on the real paths
    assert sorted(p for p in new[0]["argv"] if p.endswith(".py")) == ["b.py", "c.py"]
    assert not any(os.scandir(repo / ".watchd" / "tmp")), "no private tree left"


def test_misses_that_differ_from_the_work_tree_run_on_staged_bytes(repo, watchd, tmp_path):
    log, extra = install_fake_ruff(repo, tmp_path)
    (repo / "a.py").write_text("bad = 1\n")
    git(repo, "add", "a.py")
    (repo / "a.py").write_text("a = 1\n")     # fixed, not staged
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 1, str(r)
    runs = [s for s in starts(log) if "--version" not in s["argv"]]
    assert len(runs) == 1 and runs[0]["cwd"] != str(repo)
    assert r.json["gates"][0]["findings"][0]["path"] == "a.py"
    assert (repo / "a.py").read_text() == "a = 1\n"
    assert not any(os.scandir(repo / ".watchd" / "tmp")), "the private tree is removed"
