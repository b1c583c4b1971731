"""watchd init: a starter watch.config.json from the files a real git
repository tracks (or a directory walk) and the tools found on PATH; the
written file passes `config check`; --dry-run writes nothing; an existing
config is refused (exit 2, naming it) unless --force."""
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO_DIR, TOOLS_DIR, git, run_watchd


def write(root, rel, text=""):
    p = Path(root) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def gates_of(path):
    return {g["name"]: g for g in json.loads(Path(path).read_text())["gates"]}


def path_with(tmp_path, *progs):
    """A PATH holding only links to progs (those found here), plus git."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for prog in progs + ("git",):
        src = TOOLS_DIR / prog if (TOOLS_DIR / prog).exists() else shutil.which(prog)
        if src and not (d / prog).exists():
            os.symlink(src, d / prog)
    return str(d)


def mixed_repo(repo):
    write(repo, "src/app.py", "import os\n")
    write(repo, "tests/test_app.py", "def test_ok():\n    assert True\n")
    write(repo, "pkg/util_test.py", "def test_util():\n    pass\n")
    write(repo, "scripts/build.sh", "#!/bin/sh\necho hi\n")
    write(repo, "c/main.c", "int main(void) { return 0; }\n")
    write(repo, "ps/Tool.psm1", "function Get-X { 1 }\n")
    write(repo, "ps/Tool.Tests.ps1", "Describe 'x' { It 'y' { 1 | Should -Be 1 } }\n")
    git(repo, "add", "-A")


def test_init_mixed_repo_writes_a_config_that_passes_check(repo, watchd):
    mixed_repo(repo)
    r = watchd("init")
    assert r.rc == 0, r
    cfg = repo / "watch.config.json"
    assert cfg.exists()
    gates = gates_of(cfg)
    # tests/tools (a ruff stand-in) is on the tests' PATH: ruff-format joins ruff
    assert set(gates) == {"ruff", "ruff-format", "pytest", "psscriptanalyzer", "pester",
                          "shellcheck", "c-syntax"}
    assert gates["ruff"] == {"name": "ruff", "type": "ruff", "include": ["**/*.py"]}
    assert gates["ruff-format"]["type"] == "ruff-format"
    assert gates["pytest"]["parser"] == "junit"
    assert "--junitxml={report}" in gates["pytest"]["command"]
    assert set(gates["pytest"]["include"]) == {"**/test_*.py", "**/*_test.py"}
    assert gates["pester"] == {"name": "pester", "type": "pester",
                               "include": ["**/*.Tests.ps1"]}
    assert gates["psscriptanalyzer"]["type"] == "psscriptanalyzer"
    assert gates["shellcheck"]["command"] == ["shellcheck", "-f", "gcc", "{files}"]
    assert gates["c-syntax"]["command"][:2] == ["cc", "-fsyntax-only"]
    assert gates["c-syntax"]["parser"] == "gcc"
    assert "wrote watch.config.json" in r.stderr
    c = watchd("config", "check")
    assert c.rc == 0, c
    assert "(7 gates)" in c.stdout


def test_init_runs_on_the_written_config(repo, watchd):
    """The config init writes is one `watchd run` accepts (the shellcheck
    gate, whose tool the tests install, judges the script)."""
    write(repo, "ok.sh", "#!/bin/sh\necho \"$1\"\n")
    git(repo, "add", "-A")
    assert watchd("init").rc == 0
    r = watchd("run", "--json")
    assert r.rc == 0, r
    assert [g["name"] for g in r.json["gates"]] == ["shellcheck"]
    assert r.json["gates"][0]["status"] == "pass"


def test_init_only_counts_tracked_files(repo, watchd):
    write(repo, "tracked.py", "x = 1\n")
    git(repo, "add", "tracked.py")
    write(repo, "untracked.sh", "echo\n")
    write(repo, "untracked.c", "int x;\n")
    r = watchd("init", "--dry-run")
    assert r.rc == 0, r
    names = [g["name"] for g in r.json["gates"]]
    assert "ruff" in names
    assert "shellcheck" not in names and "c-syntax" not in names
    assert "tracked files (git index)" in r.stderr


def test_init_without_ruff_leaves_ruff_format_out_and_says_how_to_install(repo, watchd,
                                                                           tmp_path):
    write(repo, "a.py", "x = 1\n")
    write(repo, "run.sh", "echo\n")
    git(repo, "add", "-A")
    r = watchd("init", "--dry-run", env_extra={"PATH": path_with(tmp_path, "python3")})
    assert r.rc == 0, r
    names = [g["name"] for g in r.json["gates"]]
    assert names == ["ruff", "shellcheck"]
    assert "ruff is not on PATH" in r.stderr and "pip install ruff" in r.stderr
    assert "shellcheck is not on PATH" in r.stderr and "apt-get install shellcheck" in r.stderr


def test_init_dry_run_prints_the_file_and_writes_nothing(repo, watchd):
    mixed_repo(repo)
    r = watchd("init", "--dry-run")
    assert r.rc == 0, r
    assert not (repo / "watch.config.json").exists()
    assert r.json["version"] == 1
    assert "not written" in r.stderr
    assert watchd("init").rc == 0
    assert json.loads((repo / "watch.config.json").read_text()) == r.json


def test_init_refuses_to_overwrite_and_names_the_file(repo, watchd):
    write(repo, "a.sh", "echo\n")
    git(repo, "add", "-A")
    cfg = repo / "watch.config.json"
    cfg.write_text('{"version": 1, "gates": []}\n')
    r = watchd("init")
    assert r.rc == 2, r
    assert "watch.config.json" in r.stderr and "--force" in r.stderr
    assert cfg.read_text() == '{"version": 1, "gates": []}\n'
    # --dry-run still shows what would be written, and still writes nothing
    d = watchd("init", "--dry-run")
    assert d.rc == 0 and d.json["gates"][0]["name"] == "shellcheck"
    assert cfg.read_text() == '{"version": 1, "gates": []}\n'
    f = watchd("init", "--force")
    assert f.rc == 0, f
    assert list(gates_of(cfg)) == ["shellcheck"]
    assert watchd("config", "check").rc == 0


def test_init_honours_config_option(repo, watchd):
    write(repo, "a.c", "int x;\n")
    git(repo, "add", "-A")
    other = repo / "conf" / "w.json"
    other.parent.mkdir()
    r = watchd("--config", other, "init")
    assert r.rc == 0, r
    assert not (repo / "watch.config.json").exists()
    assert list(gates_of(other)) == ["c-syntax"]
    assert watchd("--config", other, "config", "check").rc == 0
    again = watchd("--config", other, "init")
    assert again.rc == 2 and "w.json" in again.stderr


def test_init_empty_repo_writes_an_empty_gate_list(repo, watchd):
    r = watchd("init")
    assert r.rc == 0, r
    assert gates_of(repo / "watch.config.json") == {}
    assert "gate list is empty" in r.stderr
    assert watchd("config", "check").rc == 0


def test_init_outside_git_walks_the_directory(tmp_path, env):
    root = tmp_path / "plain"
    write(root, "lib/x.ps1", "Write-Output 1\n")
    write(root, "node_modules/dep/a.sh", "echo\n")
    write(root, ".venv/lib/b.py", "x = 1\n")
    r = run_watchd(["--root", root, "init"], root, env)
    assert r.rc == 0, r
    assert list(gates_of(root / "watch.config.json")) == ["psscriptanalyzer"]
    assert "directory walk" in r.stderr
    c = run_watchd(["--root", root, "config", "check"], root, env)
    assert c.rc == 0, c


def test_init_points_at_from_pre_commit(repo, watchd):
    write(repo, "a.sh", "echo\n")
    write(repo, ".pre-commit-config.yaml", "repos: []\n")
    git(repo, "add", "-A")
    r = watchd("init", "--dry-run")
    assert r.rc == 0, r
    assert "--from-pre-commit" in r.stderr


def test_init_output_validates_against_the_schema(repo, watchd):
    jsonschema = pytest.importorskip("jsonschema")
    mixed_repo(repo)
    assert watchd("init").rc == 0
    schema = json.loads((REPO_DIR / "config" / "watch.config.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(
        json.loads((repo / "watch.config.json").read_text()))
