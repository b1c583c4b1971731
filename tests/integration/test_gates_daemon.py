"""Gates under the daemon: config reloads, config_files, busy policies,
batching, and Ruff end to end through the test stand-in."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import TOOLS_DIR, commit_all, requires, wait_until, write_config

pytestmark = requires("start", "status", "log", "show")


def rec_gate(**extra):
    g = {"name": "rec", "type": "command", "include": ["**/*.txt"],
         "command": ["record-files", "{files}"], "timeout_s": 60}
    g.update(extra)
    return g


def records(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def sync(watchd):
    r = watchd("status", "--sync", "--json")
    assert r.rc in (0, 1), str(r)  # 1: a gate fails
    return r.json


def runs(watchd, n=50):
    r = watchd("log", "--json", "--limit", str(n))
    assert r.rc == 0, str(r)
    return r.json


def test_config_reload_reruns_changed_gates_and_refuses_bad_edits(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    for i in range(3):
        (repo / f"f{i}.txt").write_text(f"{i}\n")
    write_config(repo, [rec_gate()], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out}).rc == 0
    # a changed definition re-runs that gate on everything it includes
    write_config(repo, [rec_gate(timeout_s=30)], debounce_ms=50, stability_ms=20)
    st = sync(watchd)
    assert st["config_error"] is None
    assert sorted(r["path"] for r in records(out)) == ["f0.txt", "f1.txt", "f2.txt"]
    last = watchd("show", runs(watchd)[0]["id"], "--json").json
    assert last["gates"][0]["reasons"]["f0.txt"] == "the gate's definition changed"
    # a broken edit is refused with file:line:col and the running config stays
    (repo / "watch.config.json").write_text('{"version": 1, "gates": [{"name": 1}]}\n')
    st = sync(watchd)
    assert "watch.config.json:1:" in st["config_error"] and "gates[0].name" in st["config_error"]
    out.write_text("")
    (repo / "f1.txt").write_text("still gated\n")
    sync(watchd)
    assert [r["path"] for r in records(out)] == ["f1.txt"]
    write_config(repo, [rec_gate(timeout_s=30)], debounce_ms=50, stability_ms=20)
    assert sync(watchd)["config_error"] is None


def test_config_file_change_reruns_gate_on_all_files(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    for i in range(3):
        (repo / f"f{i}.txt").write_text(f"{i}\n")
    (repo / "rules.toml").write_text("a = 1\n")
    write_config(repo, [rec_gate(config_files=["rules.toml"])], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out}).rc == 0
    (repo / "rules.toml").write_text("a = 2\n")
    sync(watchd)
    assert sorted(r["path"] for r in records(out)) == ["f0.txt", "f1.txt", "f2.txt"]


def test_busy_queue_never_runs_one_file_twice_at_once(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    (repo / "a.txt").write_text("1\n")
    write_config(repo, [rec_gate()], debounce_ms=30, stability_ms=10)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out, "RECORD_SLEEP": "0.8"}).rc == 0
    (repo / "a.txt").write_text("2\n")
    wait_until(lambda: watchd("status", "--json").json["queue"]["running_gates"] == 1,
               what="the gate to start")
    (repo / "a.txt").write_text("3\n")  # changes while its gate runs on it
    sync(watchd)
    recs = [r for r in records(out) if r["path"] == "a.txt"]
    assert len(recs) == 2, recs
    first, second = sorted(recs, key=lambda r: r["start"])
    assert second["start"] >= first["end"], "the same file was judged twice at once"
    assert second["head"] == "3\n"


def test_busy_restart_kills_and_starts_over(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    (repo / "a.txt").write_text("1\n")
    write_config(repo, [rec_gate(busy="restart")], debounce_ms=30, stability_ms=10)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out, "RECORD_SLEEP": "2"}).rc == 0
    (repo / "a.txt").write_text("2\n")
    wait_until(lambda: watchd("status", "--json").json["queue"]["running_gates"] == 1,
               what="the gate to start")
    (repo / "a.txt").write_text("3\n")
    sync(watchd)
    recs = records(out)
    assert len(recs) == 1 and recs[0]["head"] == "3\n"  # the first run never finished
    statuses = [g["status"] for run in runs(watchd) for g in run["gates"]]
    assert "skipped" in statuses and "pass" in statuses


def test_batching_respects_batch_size_and_odd_names(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    (repo / "many").mkdir()
    names = [f"many/{i:03d}.txt" for i in range(250)] + ["many/-dash.txt", "many/sp ace.txt",
                                                         "many/quo'te.txt", "many/é.txt"]
    write_config(repo, [rec_gate(batch_size=100)], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out}).rc == 0
    for n in names:
        (repo / n).write_text("x\n")
    sync(watchd)
    recs = records(out)
    assert sorted(r["path"] for r in recs) == sorted(names)
    per_process = {}
    for r in recs:
        per_process.setdefault(r["pid"], []).append(r["path"])
    assert len(per_process) == 3
    assert max(len(v) for v in per_process.values()) <= 100


RUFF_READY = (TOOLS_DIR / "node_modules" / "@astral-sh" / "ruff-wasm-nodejs").exists()


@pytest.mark.skipif(not RUFF_READY or not shutil.which("node"),
                    reason="ruff stand-in not installed (scripts/install-test-tools.sh)")
def test_ruff_gate_end_to_end(repo, watchd):
    (repo / "ruff.toml").write_text('[lint]\nselect = ["F401", "F821", "E711"]\n')
    write_config(repo, [{"name": "ruff", "type": "ruff", "include": ["**/*.py"],
                         "config_files": ["ruff.toml"]}], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start").rc == 0
    (repo / "bad.py").write_text("import os\n\n\ndef f(x):\n    return x == None or y\n")
    st = sync(watchd)
    gate = st["gates"][0]
    assert gate["name"] == "ruff" and gate["status"] == "fail" and gate["failing_files"] == 1
    run = watchd("show", st["last_run"]["id"], "--json").json
    found = sorted((f["code"], f["line"], f["col"]) for f in run["gates"][0]["findings"])
    assert found == [("E711", 5, 17), ("F401", 1, 8), ("F821", 5, 25)]
    f401 = next(f for f in run["gates"][0]["findings"] if f["code"] == "F401")
    assert f401["path"] == "bad.py" and f401["url"].endswith("/unused-import")
    assert f401["fixable"] is True
    # fixing the file clears the gate; undoing to judged content costs no run
    (repo / "bad.py").write_text("def f(x):\n    return x\n")
    st = sync(watchd)
    assert st["gates"][0]["status"] == "pass"
    (repo / "bad.py").write_text("import os\n\n\ndef f(x):\n    return x == None or y\n")
    st = sync(watchd)
    run = watchd("show", st["last_run"]["id"], "--json").json
    assert run["gates"][0]["cached"] is True and run["gates"][0]["status"] == "fail"


def test_newline_and_non_utf8_names(repo, watchd, tmp_path):
    out = tmp_path / "rec.jsonl"
    write_config(repo, [rec_gate(include=["**"], exclude=["watch.config.json"],
                                 command=["record-files", "{files}"], parser="exit")],
                 debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start", env_extra={"WATCHD_TEST_RECORD": out}).rc == 0
    odd = [b"new\nline.txt", b"bad\xff\xfe.txt", b"-lead.txt", b"it's \"quoted\".txt"]
    for name in odd:
        with open(bytes(repo) + b"/" + name, "wb") as f:
            f.write(b"x\n")
    st = sync(watchd)  # the status JSON itself must stay valid UTF-8
    assert st["last_run"]["status"] == "pass"
    got = {r["path"].encode("utf-8", "surrogateescape") for r in records(out)}
    assert got == set(odd)
    run = watchd("show", st["last_run"]["id"], "--json")
    assert run.rc == 0 and run.json is not None
    assert "bad\ufffd\ufffd.txt" in run.json["gates"][0]["files"]
    assert "new\nline.txt" in run.json["gates"][0]["files"]


def test_status_forgets_files_a_gate_no_longer_checks(repo, watchd):
    gate = {"name": "sh", "type": "command", "include": ["**/*.sh"],
            "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}
    (repo / "old.sh").write_text("#!/bin/sh\necho $1\n")
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("run").rc == 1
    st = watchd("status", "--json").json
    assert st["gates"][0]["failing_files"] == 1
    # the config now excludes it: a restarted daemon stops reporting it
    gate["exclude"] = ["old.sh"]
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    assert watchd("start").rc == 0
    st = sync(watchd)
    assert all(g["failing_files"] == 0 for g in st["gates"]), st["gates"]
    # and a deleted file is forgotten as it goes
    gate.pop("exclude")
    (repo / "gone.sh").write_text("#!/bin/sh\necho $2\n")
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    st = sync(watchd)
    assert st["gates"][0]["failing_files"] == 2, st["gates"]
    (repo / "gone.sh").unlink()
    st = sync(watchd)
    assert st["gates"][0]["failing_files"] == 1


def last_run(watchd, st):
    r = watchd("show", st["last_run"]["id"], "--json")
    assert r.rc == 0, str(r)
    return r.json


WRITE_HOST_PS1 = 'function Say-Hello {\n    Write-Host "Hello"\n}\n'
CLEAN_PS1 = "function Get-Answer {\n    return 42\n}\n"


def test_pssa_settings_file_is_watched_and_fingerprinted(repo, watchd):
    """The settings file is a config file of the gate without being listed:
    editing it re-runs the gate on all its files, with no stale cache."""
    (repo / "hello.ps1").write_text(WRITE_HOST_PS1)
    (repo / "clean.ps1").write_text(CLEAN_PS1)
    write_config(repo, [{"name": "pssa", "type": "psscriptanalyzer", "include": ["**/*.ps1"],
                         "timeout_s": 120}], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("run", timeout=120).rc == 1
    assert watchd("start").rc == 0
    # the fake pwsh drops a rule named in the settings file, as ExcludeRules does
    (repo / "PSScriptAnalyzer.psd1").write_text("@{ ExcludeRules = @('PSAvoidUsingWriteHost') }\n")
    st = sync(watchd)
    assert st["gates"][0]["status"] == "pass" and st["gates"][0]["failing_files"] == 0, st
    g = last_run(watchd, st)["gates"][0]
    assert g["status"] == "pass" and g["cached"] is False
    assert sorted(g["files"]) == ["clean.ps1", "hello.ps1"]
    assert g["reasons"]["hello.ps1"] == "config file PSScriptAnalyzer.psd1 changed"
    (repo / "PSScriptAnalyzer.psd1").unlink()
    st = sync(watchd)
    assert st["gates"][0]["status"] == "fail", st
    # a one-shot agrees: the old verdict is reused only for the same settings
    r = watchd("run", "--json", timeout=120)
    assert r.rc == 1 and r.json["gates"][0]["cached"] is True, str(r)


@pytest.mark.skipif(not RUFF_READY or not shutil.which("node"),
                    reason="ruff stand-in not installed (scripts/install-test-tools.sh)")
def test_ruff_own_config_files_are_watched_without_config_files(repo, watchd):
    (repo / "bad.py").write_text("import os\n")
    (repo / "ok.py").write_text("print('hi')\n")
    write_config(repo, [{"name": "ruff", "type": "ruff", "include": ["**/*.py"],
                         "timeout_s": 120}], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start").rc == 0
    (repo / "bad.py").write_text("import os\n\n")
    st = sync(watchd)
    assert st["gates"][0]["status"] == "fail", st
    (repo / "ruff.toml").write_text('[lint]\nignore = ["F401"]\n')
    st = sync(watchd)
    assert st["gates"][0]["status"] == "pass", st
    g = last_run(watchd, st)["gates"][0]
    assert sorted(g["files"]) == ["bad.py", "ok.py"] and g["cached"] is False
    assert g["reasons"]["ok.py"] == "config file ruff.toml changed"
    (repo / ".ruff.toml").write_text('[lint]\nselect = ["F401"]\n')  # found before ruff.toml
    st = sync(watchd)
    assert st["gates"][0]["status"] == "fail" and st["gates"][0]["failing_files"] == 1, st
