"""WATCHD_SKIP=gate,gate skips gates in `check`, `run` and `ci` (recorded
as skipped; an unknown name is a warning), and `run --gate NAME` / `ci
--gate NAME` (repeatable) run only those gates (an unknown one exits 2)."""
from conftest import commit_all, git, write_config

A = {"name": "alpha", "type": "command", "include": ["**/*.txt"],
     "command": ["record-files", "{files}"], "parser": "exit"}
B = {"name": "beta", "type": "command", "include": ["**/*.txt"],
     "command": ["record-files", "{files}"], "parser": "exit"}
C = {"name": "gamma", "type": "command", "include": ["**/*.txt"],
     "command": ["false", "{files}"], "parser": "exit"}


def setup_repo(repo, tmp_path):
    write_config(repo, [A, B, C])
    (repo / "x.txt").write_text("x\n")
    rec = tmp_path / "rec.jsonl"
    return {"WATCHD_TEST_RECORD": str(rec)}


def statuses(run):
    return {g["name"]: g["status"] for g in run["gates"]}


def test_watchd_skip_in_run(repo, watchd, tmp_path):
    extra = setup_repo(repo, tmp_path)
    r = watchd("run", "--json", env_extra=extra)
    assert r.rc == 1 and statuses(r.json)["gamma"] == "fail"
    extra["WATCHD_SKIP"] = "gamma, beta"
    r = watchd("run", "--json", "--no-cache", env_extra=extra)
    assert r.rc == 0, str(r)
    assert statuses(r.json) == {"alpha": "pass", "beta": "skipped", "gamma": "skipped"}
    shown = watchd("show", r.json["id"], "--json").json
    assert statuses(shown)["gamma"] == "skipped"
    # nothing but the lines of finished gates a run over a second prints
    assert [ln for ln in r.stderr.splitlines() if not ln.startswith("watchd: gate ")] == []


def test_watchd_skip_unknown_name_warns(repo, watchd, tmp_path):
    extra = setup_repo(repo, tmp_path)
    extra["WATCHD_SKIP"] = "gamma,nosuch"
    r = watchd("run", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    assert "nosuch" in r.stderr and "warning" in r.stderr


def test_watchd_skip_in_check_and_ci(repo, watchd, tmp_path):
    extra = setup_repo(repo, tmp_path)
    git(repo, "add", "-A")
    r = watchd("check", "--staged", env_extra=extra)
    assert r.rc == 1
    extra["WATCHD_SKIP"] = "gamma"
    r = watchd("check", "--staged", "--json", env_extra=extra)
    assert r.rc == 0, str(r)
    assert statuses(r.json)["gamma"] == "skipped"
    commit_all(repo)
    r = watchd("ci", "--format", "json", env_extra=extra)
    assert r.rc == 0, str(r)
    assert statuses(r.json)["gamma"] == "skipped"


def test_run_and_ci_gate_option(repo, watchd, tmp_path):
    extra = setup_repo(repo, tmp_path)
    r = watchd("run", "--json", "--gate", "alpha", env_extra=extra)
    assert r.rc == 0, str(r)
    assert statuses(r.json) == {"alpha": "pass"}
    r = watchd("run", "--json", "--gate", "alpha", "--gate", "gamma", env_extra=extra)
    assert r.rc == 1
    assert statuses(r.json) == {"alpha": "pass", "gamma": "fail"}
    commit_all(repo)
    r = watchd("ci", "--format", "json", "--gate", "beta", env_extra=extra)
    assert r.rc == 0, str(r)
    assert statuses(r.json) == {"beta": "pass"}


def test_unknown_gate_option_exits_2(repo, watchd, tmp_path):
    extra = setup_repo(repo, tmp_path)
    r = watchd("run", "--gate", "nosuch", env_extra=extra)
    assert r.rc == 2 and "nosuch" in r.stderr
    commit_all(repo)
    r = watchd("ci", "--gate", "alpha", "--gate", "nosuch", env_extra=extra)
    assert r.rc == 2 and "nosuch" in r.stderr
