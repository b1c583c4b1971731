"""A commit that stages only a gate's config file re-judges that gate's
files as staged, as the daemon does for an edit; the staged
watch.config.json is the config in force for `check --staged`."""
import json

from conftest import commit_all, git, write_config

ALWAYS = {"name": "recorder", "type": "command", "include": ["**/*.py"],
          "command": ["record-files", "{files}"], "parser": "exit",
          "config_files": ["ruff.toml"]}
OTHER = {"name": "other", "type": "command", "include": ["**/*.sh"],
         "command": ["record-files", "{files}"], "parser": "exit"}


def recorded(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def setup_repo(repo, tmp_path, gates):
    write_config(repo, gates)
    (repo / "a.py").write_text("a = 1\n")
    (repo / "b.py").write_text("b = 1\n")
    (repo / "s.sh").write_text("echo hi\n")
    (repo / "ruff.toml").write_text("line-length = 100\n")
    commit_all(repo)
    rec = tmp_path / "record.jsonl"
    return rec, {"WATCHD_TEST_RECORD": str(rec)}


def test_staging_only_a_config_file_rejudges_its_gate(repo, watchd, tmp_path):
    rec, extra = setup_repo(repo, tmp_path, [ALWAYS, OTHER])
    (repo / "ruff.toml").write_text("line-length = 80\n")
    git(repo, "add", "ruff.toml")
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    gates = {g["name"]: g for g in r.json["gates"]}
    assert set(gates) == {"recorder"}, "only the gate whose config changed"
    assert sorted(gates["recorder"]["files"]) == ["a.py", "b.py"]
    assert sorted(x["path"] for x in recorded(rec)) == ["a.py", "b.py"]


def test_the_staged_config_file_is_what_the_tool_reads(repo, watchd, tmp_path):
    gate = dict(ALWAYS, command=["record-files", "ruff.toml", "{files}"])
    rec, extra = setup_repo(repo, tmp_path, [gate])
    (repo / "ruff.toml").write_text("line-length = 80\n")
    git(repo, "add", "ruff.toml")
    (repo / "ruff.toml").write_text("line-length = 60\n")   # not staged
    r = watchd("check", "--staged", env_extra=extra)
    assert r.rc == 0, str(r)
    heads = {x["path"]: x["head"] for x in recorded(rec)}
    assert heads["ruff.toml"] == "line-length = 80\n"
    # committed as staged, the next check has nothing to judge
    git(repo, "commit", "-q", "-m", "cfg")
    n = len(recorded(rec))
    assert watchd("check", "--staged", env_extra=extra).rc == 0
    assert len(recorded(rec)) == n


def test_staged_watch_config_is_the_config_in_force(repo, watchd, tmp_path):
    rec, extra = setup_repo(repo, tmp_path, [OTHER])
    # stage a config that adds a gate, then break the work tree's copy
    write_config(repo, [OTHER, ALWAYS])
    git(repo, "add", "watch.config.json")
    (repo / "watch.config.json").write_text("{ not json")
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    gates = {g["name"]: g for g in r.json["gates"]}
    # the new gate runs on everything it includes; the unchanged one not
    assert set(gates) == {"recorder"}
    assert sorted(gates["recorder"]["files"]) == ["a.py", "b.py"]


def test_a_broken_staged_config_is_a_usage_error(repo, watchd, tmp_path):
    rec, extra = setup_repo(repo, tmp_path, [OTHER])
    (repo / "watch.config.json").write_text('{"version": 1, "gates": 3}\n')
    git(repo, "add", "watch.config.json")
    write_config(repo, [OTHER])                 # a good one, not staged
    r = watchd("check", "--staged", env_extra=extra)
    assert r.rc == 2, str(r)
    assert "watch.config.json" in r.stderr and "staged" in r.stderr
