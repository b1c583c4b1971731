"""psscriptanalyzer and pester gates. They run through tests/tools/pwsh
(first on PATH: it replays the real tools' output from the files' content),
and again through a real pwsh when one is installed elsewhere on PATH."""
import json
import os
import textwrap

import pytest

from conftest import TOOLS_DIR, needs_watchd, which_outside_tools, write_config

pytestmark = needs_watchd

REAL_PWSH = which_outside_tools("pwsh")

PSSA = {"name": "pssa", "type": "psscriptanalyzer", "include": ["**/*.ps1", "**/*.psm1"],
        "exclude": ["**/*.Tests.ps1"], "timeout_s": 300}
PESTER = {"name": "pester", "type": "pester", "include": ["**/*.Tests.ps1"],
          "timeout_s": 300}

WRITE_HOST = textwrap.dedent("""\
    function Say-Hello {
        param([string]$Name)
        Write-Host "Hello $Name"
    }
    """)
CLEAN_PS = textwrap.dedent("""\
    function Get-Answer {
        return 42
    }
    """)
PARSE_ERROR = textwrap.dedent("""\
    function Get-Broken {
        if ($true) {
            'unclosed'
    }
    """)
PESTER_FAILING = textwrap.dedent("""\
    Describe 'Calculator' {
        It 'adds' {
            2 | Should -Be 2
        }
        It 'subtracts wrongly' {
            $false | Should -Be $true
        }
    }
    """)
PESTER_PASSING = textwrap.dedent("""\
    Describe 'Calculator' {
        It 'adds' {
            2 | Should -Be 2
        }
    }
    """)


@pytest.fixture(params=["fake", "real"])
def pwsh_env(request):
    """env_extra selecting the pwsh: the fake in tests/tools, or a real one."""
    if request.param == "fake":
        return None
    if REAL_PWSH is None:
        pytest.skip("no real pwsh on PATH (outside tests/tools)")
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep)
            if p and os.path.realpath(p) != os.path.realpath(TOOLS_DIR)]
    return {"PATH": os.pathsep.join(path)}


def only_gate(r, name):
    assert isinstance(r.json, dict), str(r)
    [g] = [g for g in r.json["gates"] if g["name"] == name]
    return g


def test_write_host_is_a_warning(repo, watchd, pwsh_env):
    write_config(repo, [PSSA])
    (repo / "scripts").mkdir()
    (repo / "scripts" / "hello.ps1").write_text(WRITE_HOST)
    (repo / "clean.ps1").write_text(CLEAN_PS)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 1, str(r)
    g = only_gate(r, "pssa")
    assert g["status"] == "fail"
    assert sorted(g["files"]) == ["clean.ps1", "scripts/hello.ps1"]
    [f] = [f for f in g["findings"] if f["code"] == "PSAvoidUsingWriteHost"]
    assert f["path"] == "scripts/hello.ps1"
    assert f["severity"] == "warning"
    assert f["line"] == 3 and f["col"] == 5
    assert "Write-Host" in f["message"]
    assert not [f for f in g["findings"] if f["path"] == "clean.ps1"]


def test_clean_script_passes(repo, watchd, pwsh_env):
    write_config(repo, [PSSA])
    (repo / "clean.ps1").write_text(CLEAN_PS)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 0, str(r)
    assert only_gate(r, "pssa")["status"] == "pass"


def test_parse_error_is_an_error_finding(repo, watchd, pwsh_env):
    write_config(repo, [PSSA])
    (repo / "broken.ps1").write_text(PARSE_ERROR)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 1, str(r)
    g = only_gate(r, "pssa")
    assert g["status"] == "fail"
    errors = [f for f in g["findings"] if f["severity"] == "error"]
    assert errors, g["findings"]
    assert all(f["path"] == "broken.ps1" for f in errors)
    assert any(f["code"] == "MissingEndCurlyBrace" for f in errors)


def test_settings_file_excludes_a_rule(repo, watchd, pwsh_env):
    write_config(repo, [PSSA])
    (repo / "PSScriptAnalyzer.psd1").write_text(
        "@{\n    ExcludeRules = @('PSAvoidUsingWriteHost')\n}\n")
    (repo / "hello.ps1").write_text(WRITE_HOST)
    r = watchd("run", "--json", "hello.ps1", env_extra=pwsh_env, timeout=300)
    assert r.rc == 0, str(r)
    assert only_gate(r, "pssa")["status"] == "pass"


@pytest.mark.parametrize("name", ["with space.ps1", "it's.ps1", "-dash.ps1", "é.ps1",
                                  "wild[1].ps1"])
def test_awkward_names_reach_pwsh_intact(repo, watchd, pwsh_env, name):
    write_config(repo, [PSSA])
    (repo / name).write_text(WRITE_HOST)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 1, str(r)
    g = only_gate(r, "pssa")
    assert g["files"] == [name]
    assert {f["path"] for f in g["findings"]} == {name}


def test_failing_pester_test_is_a_finding(repo, watchd, pwsh_env):
    write_config(repo, [PESTER])
    (repo / "tests").mkdir()
    (repo / "tests" / "Calc.Tests.ps1").write_text(PESTER_FAILING)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 1, str(r)
    g = only_gate(r, "pester")
    assert g["status"] == "fail"
    assert g["files"] == ["tests/Calc.Tests.ps1"]
    [f] = g["findings"]
    assert "subtracts wrongly" in (f["code"] or "") + " " + f["message"]
    assert "adds" not in (f["code"] or "")
    assert f["path"] == "tests/Calc.Tests.ps1"
    assert f["line"] == 6
    assert "Expected" in f["message"]


def test_passing_pester_file_passes(repo, watchd, pwsh_env):
    write_config(repo, [PESTER])
    (repo / "Ok.Tests.ps1").write_text(PESTER_PASSING)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 0, str(r)
    g = only_gate(r, "pester")
    assert g["status"] == "pass" and g["findings"] == []


def test_pester_file_that_cannot_load_is_an_error(repo, watchd, pwsh_env):
    write_config(repo, [PESTER])
    (repo / "Bad.Tests.ps1").write_text("Describe 'X' {\n    It 'y' {\n")
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    g = only_gate(r, "pester")
    assert g["status"] in ("error", "fail"), g
    assert r.rc in (1, 4)
    assert "Bad.Tests.ps1" in json.dumps(g)


def test_both_gates_in_one_run(repo, watchd, pwsh_env):
    write_config(repo, [PSSA, PESTER])
    (repo / "hello.ps1").write_text(WRITE_HOST)
    (repo / "Ok.Tests.ps1").write_text(PESTER_PASSING)
    r = watchd("run", "--json", env_extra=pwsh_env, timeout=300)
    assert r.rc == 1, str(r)
    assert only_gate(r, "pssa")["files"] == ["hello.ps1"]
    assert only_gate(r, "pester")["status"] == "pass"


# The fake's failure knobs: a broken PowerShell is an error, never a pass.

@pytest.mark.parametrize("gate,file,text", [(PSSA, "a.ps1", CLEAN_PS),
                                            (PESTER, "a.Tests.ps1", PESTER_PASSING)],
                         ids=["pssa", "pester"])
@pytest.mark.parametrize("knob", ["FAKE_PWSH_CRASH", "FAKE_PWSH_GARBAGE"])
def test_broken_pwsh_is_an_error(repo, watchd, gate, file, text, knob):
    write_config(repo, [gate])
    (repo / file).write_text(text)
    r = watchd("run", "--json", env_extra={knob: "1"})
    assert only_gate(r, gate["name"])["status"] == "error", str(r)
    assert r.rc == 4


def test_hanging_pwsh_times_out(repo, watchd):
    write_config(repo, [dict(PSSA, timeout_s=1)])
    (repo / "a.ps1").write_text(CLEAN_PS)
    r = watchd("run", "--json", env_extra={"FAKE_PWSH_HANG": "1"})
    assert only_gate(r, "pssa")["status"] == "timeout", str(r)


def test_missing_pwsh(repo, watchd):
    write_config(repo, [PSSA])
    (repo / "a.ps1").write_text(CLEAN_PS)
    r = watchd("run", "--json", env_extra={"PATH": "/nonexistent"})
    g = only_gate(r, "pssa")
    assert g["status"] == "missing", str(r)
    assert "pwsh" in json.dumps(g)
    assert r.rc == 4
