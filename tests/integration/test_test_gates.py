"""Test gates under watching and under the result cache: triggers mapped to
tests, whole-set runs, custom maps, and no stale cached passes. Real pytest
through the junit parser; Pester through the replaying fake pwsh."""
from pathlib import Path

from conftest import commit_all, requires, write_config

pytestmark = requires("run", "start", "status", "log", "show")

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
          "--junitxml={report}", "{files}"]


def pytest_gate(**extra):
    g = {"name": "pytest", "type": "command", "include": ["tests/test_*.py"],
         "triggers": ["**/*.py"], "command": PYTEST, "parser": "junit", "timeout_s": 120}
    g.update(extra)
    return g


def make_project(root: Path):
    (root / "pkg").mkdir()
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "foo.py").write_text("def foo():\n    return 1\n")
    (root / "pkg" / "bar.py").write_text("def bar():\n    return 2\n")
    (root / "pkg" / "util.py").write_text("K = 1\n")
    (root / "tests" / "test_foo.py").write_text(
        "from pkg.foo import foo\n\n\ndef test_foo():\n    assert foo() == 1\n")
    (root / "tests" / "test_bar.py").write_text(
        "from pkg.bar import bar\n\n\ndef test_bar():\n    assert bar() == 2\n")


def last_watch_run(watchd):
    r = watchd("log", "--json", "--limit", "1")
    assert r.rc == 0, str(r)
    run = r.json[0]
    assert run["trigger"] == "watch"
    s = watchd("show", run["id"], "--json")
    assert s.rc == 0, str(s)
    return s.json


def gate_of(run, name="pytest"):
    return next(g for g in run["gates"] if g["name"] == name)


def test_source_change_runs_only_its_test(repo, watchd):
    make_project(repo)
    write_config(repo, [pytest_gate()], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start").rc == 0
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 1  # touched\n")
    assert watchd("status", "--sync", "--json").rc == 0
    run = last_watch_run(watchd)
    g = gate_of(run)
    assert g["files"] == ["tests/test_foo.py"]
    assert g["reasons"]["tests/test_foo.py"] == "triggered by pkg/foo.py"
    assert g["status"] == "pass"
    # an unmapped module runs the whole set, and says why
    (repo / "pkg" / "util.py").write_text("K = 2\n")
    assert watchd("status", "--sync", "--json").rc == 0
    g = gate_of(last_watch_run(watchd))
    assert g["files"] == ["tests/test_bar.py", "tests/test_foo.py"]
    assert "whole set" in g["reasons"]["tests/test_bar.py"]
    # a changed test runs itself
    (repo / "tests" / "test_bar.py").write_text(
        "from pkg.bar import bar\n\n\ndef test_bar():\n    assert bar() == 2  # x\n")
    assert watchd("status", "--sync", "--json").rc == 0
    g = gate_of(last_watch_run(watchd))
    assert g["files"] == ["tests/test_bar.py"]
    assert g["reasons"]["tests/test_bar.py"] == "changed"


def test_run_after_source_change_never_reuses_the_pass(repo, watchd):
    make_project(repo)
    write_config(repo, [pytest_gate()])
    r1 = watchd("run", "--json")
    assert r1.rc == 0, str(r1)
    r2 = watchd("run", "--json")
    assert r2.rc == 0 and gate_of(r2.json)["cached"] is True  # nothing changed: reused
    assert "cache" in gate_of(r2.json)["reasons"]["tests/test_foo.py"]
    # the code under test breaks; the test file itself is unchanged
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 3\n")
    r3 = watchd("run", "--json")
    assert r3.rc == 1, str(r3)
    g = gate_of(r3.json)
    assert g["cached"] is False and g["status"] == "fail"
    f = g["findings"][0]
    assert f["path"] == "tests/test_foo.py" and f["code"] == "test_foo"
    # under pass-only a failure is never served from the cache
    r4 = watchd("run", "--json")
    assert r4.rc == 1
    assert gate_of(r4.json)["cached"] is False
    # fixed again: the earlier pass for these exact inputs may be reused
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 1\n")
    r5 = watchd("run", "--json")
    assert r5.rc == 0 and gate_of(r5.json)["status"] == "pass"


def test_custom_map(repo, watchd):
    make_project(repo)
    (repo / "spec").mkdir()
    (repo / "spec" / "check_foo.py").write_text(
        "from pkg.foo import foo\n\n\ndef test_it():\n    assert foo() == 1\n")
    gate = pytest_gate(include=["spec/*.py", "tests/test_*.py"],
                       map={"pkg/{name}.py": "spec/check_{name}.py"})
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start").rc == 0
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 1  # edit\n")
    assert watchd("status", "--sync", "--json").rc == 0
    g = gate_of(last_watch_run(watchd))
    assert g["files"] == ["spec/check_foo.py"]


def make_pester_project(root: Path):
    """src/Greet.ps1 with its test beside it, and a test of something else."""
    (root / "src").mkdir()
    (root / "src" / "Greet.ps1").write_text("function Get-Greeting { 'hi' }\n")
    (root / "src" / "Greet.Tests.ps1").write_text(
        "Describe 'Greet' {\n    It 'greets' {\n        'hi' | Should -Be 'hi'\n    }\n}\n")
    (root / "src" / "Other.Tests.ps1").write_text(
        "Describe 'Other' {\n    It 'works' {\n        1 | Should -Be 1\n    }\n}\n")


def test_pester_gate_triggered_by_module(repo, watchd):
    make_pester_project(repo)
    gate = {"name": "pester", "type": "pester", "include": ["**/*.Tests.ps1"],
            "triggers": ["**/*.ps1", "**/*.psm1", "**/*.psd1"], "timeout_s": 60}
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("start").rc == 0
    (repo / "src" / "Greet.ps1").write_text("function Get-Greeting { 'hello' }\n")
    assert watchd("status", "--sync", "--json").rc == 0
    g = gate_of(last_watch_run(watchd), "pester")
    assert g["files"] == ["src/Greet.Tests.ps1"]
    assert g["reasons"]["src/Greet.Tests.ps1"] == "triggered by src/Greet.ps1"
    assert g["status"] == "pass"


# A test gate with no "triggers" (README's own pytest and pester examples):
# its default triggers make the code under test part of its input set.
def untriggered_pytest_gate(**extra):
    g = {"name": "pytest", "type": "command", "include": ["tests/test_*.py"],
         "command": PYTEST, "parser": "junit", "timeout_s": 120}
    g.update(extra)
    return g


def test_untriggered_pytest_gate_never_serves_a_stale_pass(repo, watchd):
    make_project(repo)
    write_config(repo, [untriggered_pytest_gate()])
    cfg = watchd("config", "print").json
    assert cfg["gates"][0]["triggers"] == ["**/*.py"]
    assert cfg["gates"][0]["cache"] == "pass-only"
    assert watchd("run", "--json").rc == 0
    r = watchd("run", "--json")
    assert r.rc == 0 and gate_of(r.json)["cached"] is True
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 3\n")
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate_of(r.json)
    assert g["cached"] is False and g["status"] == "fail"
    assert {f["path"] for f in g["findings"]} == {"tests/test_foo.py"}


def test_untriggered_pytest_gate_reruns_the_mapped_test_when_watching(repo, watchd):
    make_project(repo)
    write_config(repo, [untriggered_pytest_gate()], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    assert watchd("run").rc == 0
    assert watchd("start").rc == 0
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 3\n")
    assert watchd("status", "--sync", "--json").rc in (0, 1)
    g = gate_of(last_watch_run(watchd))
    assert g["files"] == ["tests/test_foo.py"]
    assert g["reasons"]["tests/test_foo.py"] == "triggered by pkg/foo.py"
    assert g["status"] == "fail" and g["cached"] is False


def test_explicit_empty_triggers_opt_out(repo, watchd):
    """`"triggers": []` keeps the input set to the tests themselves: the
    documented risk is that a source change is not seen by the cache."""
    make_project(repo)
    write_config(repo, [untriggered_pytest_gate(triggers=[])])
    assert watchd("config", "print").json["gates"][0]["triggers"] == []
    assert watchd("run").rc == 0
    (repo / "pkg" / "foo.py").write_text("def foo():\n    return 3\n")
    r = watchd("run", "--json")
    assert r.rc == 0 and gate_of(r.json)["cached"] is True


def test_untriggered_pester_gate_gets_powershell_triggers(repo, watchd):
    make_pester_project(repo)
    gate = {"name": "pester", "type": "pester", "include": ["**/*.Tests.ps1"], "timeout_s": 60}
    write_config(repo, [gate], debounce_ms=50, stability_ms=20)
    cfg = watchd("config", "print").json
    assert cfg["gates"][0]["triggers"] == ["**/*.ps1", "**/*.psm1", "**/*.psd1"]
    commit_all(repo)
    assert watchd("run").rc == 0
    r = watchd("run", "--json")
    assert gate_of(r.json, "pester")["cached"] is True
    (repo / "src" / "Greet.ps1").write_text("function Get-Greeting { 'hello' }\n")
    r = watchd("run", "--json")
    assert gate_of(r.json, "pester")["cached"] is False
    assert watchd("start").rc == 0
    (repo / "src" / "Greet.ps1").write_text("function Get-Greeting { 'hey' }\n")
    assert watchd("status", "--sync", "--json").rc == 0
    g = gate_of(last_watch_run(watchd), "pester")
    assert g["files"] == ["src/Greet.Tests.ps1"]
    assert g["reasons"]["src/Greet.Tests.ps1"] == "triggered by src/Greet.ps1"


def test_cached_reasons_name_the_run_that_judged_each_file(repo, watchd):
    make_project(repo)
    write_config(repo, [pytest_gate()])
    r1 = watchd("run", "--json", "tests/test_foo.py")
    r2 = watchd("run", "--json", "tests/test_bar.py")
    assert r1.rc == 0 and r2.rc == 0, (str(r1), str(r2))
    id1, id2 = r1.json["id"], r2.json["id"]
    for _ in range(2):  # the second time the cache rows were written by a cached run
        r = watchd("run", "--json")
        assert r.rc == 0, str(r)
        g = gate_of(r.json)
        assert g["cached"] is True
        assert "run %s judged" % id1 in g["reasons"]["tests/test_foo.py"], g["reasons"]
        assert "run %s judged" % id2 in g["reasons"]["tests/test_bar.py"], g["reasons"]
    text = watchd("show", r.json["id"])
    assert "why tests/test_bar.py: changed; result reused from the cache (run %s" % id2 \
        in text.stdout, text.stdout
