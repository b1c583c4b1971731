"""watchd run: one-shot gate runs with real tools on a fresh repository,
and the run as log/show report it afterwards."""
import ast
import json
import re
import shutil
import subprocess
import textwrap

import pytest

from conftest import REPO_DIR, TOOLS_DIR, ULID_RE, git, needs_watchd, write_config

pytestmark = needs_watchd

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc",
              "timeout_s": 60}
UNQUOTED = "#!/bin/sh\necho $1\n"         # SC2086 on line 2, column 6
CLEAN = '#!/bin/sh\necho "$1"\n'
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def gate(run, name):
    [g] = [g for g in run["gates"] if g["name"] == name]
    return g


def check_run_shape(run, trigger="run"):
    """The DESIGN.md fields of a finished run."""
    assert ULID_RE.match(run["id"]), run["id"]
    assert run["trigger"] == trigger
    assert run["status"] in ("pass", "fail", "error", "interrupted")
    assert ISO.match(run["started_at"]) and ISO.match(run["finished_at"])
    assert run["started_at"] <= run["finished_at"]
    assert isinstance(run["config_hash"], str) and run["config_hash"]
    for g in run["gates"]:
        assert g["status"] in ("pass", "fail", "error", "timeout", "missing", "skipped")
        assert isinstance(g["cached"], bool)
        assert g["exit_code"] is None or isinstance(g["exit_code"], int)
        assert isinstance(g["duration_ms"], int) and g["duration_ms"] >= 0
        assert isinstance(g["files"], list)
        for f in g.get("findings", []):
            assert {"path", "line", "col", "code", "severity", "message"} <= set(f)
            assert f["severity"] in ("error", "warning", "info")


def test_shellcheck_finding(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "bad.sh").write_text(UNQUOTED)
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    run = r.json
    check_run_shape(run)
    assert run["status"] == "fail"
    assert run["git_head"] == git(repo, "rev-parse", "HEAD").strip()
    g = gate(run, "shellcheck")
    assert g["status"] == "fail" and g["cached"] is False and g["exit_code"] == 1
    assert g["files"] == ["bad.sh"]
    [f] = [f for f in g["findings"] if f["code"] == "SC2086"]
    assert (f["path"], f["line"], f["col"]) == ("bad.sh", 2, 6)
    assert "quote" in f["message"].lower()


def test_clean_script_passes(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "ok.sh").write_text(CLEAN)
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    assert r.json["status"] == "pass"
    g = gate(r.json, "shellcheck")
    assert g["status"] == "pass" and g["files"] == ["ok.sh"] and g["findings"] == []


def test_text_output_names_the_finding(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "bad.sh").write_text(UNQUOTED)
    r = watchd("run")
    assert r.rc == 1
    assert "bad.sh:2:6" in r.stdout and "SC2086" in r.stdout


def test_run_path_limits_to_that_path(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "sub").mkdir()
    (repo / "bad.sh").write_text(UNQUOTED)
    (repo / "sub" / "ok.sh").write_text(CLEAN)
    (repo / "sub" / "also.sh").write_text(CLEAN)
    r = watchd("run", "--json", "sub/ok.sh")
    assert r.rc == 0, str(r)
    assert gate(r.json, "shellcheck")["files"] == ["sub/ok.sh"]
    r = watchd("run", "--json", "--no-cache", "sub")
    assert r.rc == 0, str(r)
    assert sorted(gate(r.json, "shellcheck")["files"]) == ["sub/also.sh", "sub/ok.sh"]
    # a path relative to the current directory, from a subdirectory
    r = watchd("run", "--json", "--no-cache", "ok.sh", cwd=repo / "sub")
    assert gate(r.json, "shellcheck")["files"] == ["sub/ok.sh"]
    r = watchd("run", "--json", "--no-cache", "bad.sh")
    assert r.rc == 1 and gate(r.json, "shellcheck")["files"] == ["bad.sh"]


def test_second_run_reuses_the_cached_result(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "bad.sh").write_text(UNQUOTED)
    first = watchd("run", "--json").json
    second = watchd("run", "--json").json
    g = gate(second, "shellcheck")
    assert g["cached"] is True and g["status"] == "fail"
    assert [f["code"] for f in g["findings"]] == \
        [f["code"] for f in gate(first, "shellcheck")["findings"]]
    assert second["id"] > first["id"]
    g = gate(watchd("run", "--json", "--no-cache").json, "shellcheck")
    assert g["cached"] is False and g["status"] == "fail"


def test_symlink_is_keyed_on_what_the_tool_reads(repo, watchd):
    """A symlink's cache key follows its target's content: breaking the
    target is never answered by the pass cached for the link."""
    write_config(repo, [SHELLCHECK])
    (repo / "data").mkdir()
    (repo / "data" / "script.txt").write_text(CLEAN)
    (repo / "run.sh").symlink_to("data/script.txt")
    r = watchd("run", "--json")
    assert r.rc == 0 and gate(r.json, "shellcheck")["files"] == ["run.sh"], str(r)
    assert gate(watchd("run", "--json").json, "shellcheck")["cached"] is True
    (repo / "data" / "script.txt").write_text(UNQUOTED)
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "shellcheck")
    assert g["cached"] is False and g["status"] == "fail"
    assert [f["code"] for f in g["findings"]] == ["SC2086"]
    # back to the content already judged: reused, whatever the file's stamp
    (repo / "data" / "script.txt").write_text(CLEAN)
    assert gate(watchd("run", "--json").json, "shellcheck")["cached"] is True
    # a dangling link is keyed on its text: never the target's old result
    (repo / "data" / "script.txt").unlink()
    g = gate(watchd("run", "--json").json, "shellcheck")
    assert g["cached"] is False and g["status"] != "pass"


def test_own_c_syntax_gate_sees_header_edits(repo, watchd):
    """This repository's own c-syntax gate: cc reads the headers a .c file
    includes, so a header edit must not be answered from the cache."""
    own = json.loads((REPO_DIR / "watch.config.json").read_text())
    [cc] = [g for g in own["gates"] if g["name"] == "c-syntax"]
    write_config(repo, [cc])
    (repo / "daemon").mkdir()
    (repo / "daemon" / "x.h").write_text("#define X 1\n")
    (repo / "daemon" / "x.c").write_text(
        '#include "x.h"\nint f(void);\nint f(void) { return X; }\n')
    r = watchd("run", "--json")
    assert r.rc == 0 and gate(r.json, "c-syntax")["files"] == ["daemon/x.c"], str(r)
    assert gate(watchd("run", "--json").json, "c-syntax")["cached"] is True
    (repo / "daemon" / "x.h").write_text("#define X (\n")
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "c-syntax")
    assert g["cached"] is False and g["status"] == "fail"


def test_show_text_gives_every_reason(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "a.sh").write_text(CLEAN)
    (repo / "b.sh").write_text(CLEAN)
    first = watchd("run", "--json", "a.sh").json
    run = watchd("run", "--json").json
    text = watchd("show", run["id"])
    assert text.rc == 0, str(text)
    assert "why b.sh: changed\n" in text.stdout, text.stdout
    assert ("why a.sh: changed; result reused from the cache (run %s judged the same content)"
            % first["id"]) in text.stdout, text.stdout
    assert gate(watchd("show", run["id"], "--json").json, "shellcheck")["reasons"] == \
        {"a.sh": "changed; result reused from the cache (run %s judged the same content)"
         % first["id"], "b.sh": "changed"}


@pytest.mark.parametrize("name", ["with space.sh", "-x.sh", "it's \"quoted\".sh", "é.sh",
                                  "sub dir/-a b.sh"])
def test_awkward_file_names_reach_the_tool_intact(repo, watchd, name):
    write_config(repo, [SHELLCHECK])
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(UNQUOTED)
    (repo / "ok.sh").write_text(CLEAN)
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "shellcheck")
    assert sorted(g["files"]) == sorted([name, "ok.sh"])
    [f] = [f for f in g["findings"] if f["code"] == "SC2086"]
    assert (f["path"], f["line"], f["col"]) == (name, 2, 6)


def test_awkward_names_one_process_per_file(repo, watchd, tmp_path):
    """{file}: one argument per process, even when it looks like an option."""
    log = tmp_path / "argv.log"
    tool = tmp_path / "record.py"
    tool.write_text(textwrap.dedent(f"""\
        import sys
        with open({str(log)!r}, "a", encoding="utf-8") as f:
            f.write(repr(sys.argv[1:]) + "\\n")
        """))
    write_config(repo, [{"name": "rec", "type": "command", "include": ["**/*.txt"],
                         "command": ["/usr/bin/python3", str(tool), "--file={file}"]}])
    names = ["-n.txt", "a b.txt", "q'\".txt", "é.txt"]
    for n in names:
        (repo / n).write_text("x\n")
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    seen = sorted(ast.literal_eval(line)[0] for line in log.read_text(encoding="utf-8").splitlines())
    expect = sorted("--file=" + ("./" + n if n.startswith("-") else n) for n in names)
    assert seen == expect


@pytest.mark.skipif(shutil.which("black") is None, reason="black is not installed")
def test_black_check_with_the_exit_parser(repo, watchd):
    write_config(repo, [{"name": "black", "type": "command", "include": ["**/*.py"],
                         "command": ["black", "--check", "--quiet", "{files}"],
                         "parser": "exit", "timeout_s": 120}])
    (repo / "ugly.py").write_text("x = {  'a':1 }\n")
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "black")
    assert g["status"] == "fail" and g["exit_code"] == 1 and g["files"] == ["ugly.py"]
    (repo / "ugly.py").write_text('x = {"a": 1}\n')
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    assert gate(r.json, "black")["status"] == "pass"


PYTEST_GATE = {"name": "pytest", "type": "command", "include": ["tests/test_*.py"],
               "command": ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--junitxml={report}", "{files}"],
               "parser": "junit", "timeout_s": 120}


def test_pytest_through_the_junit_parser(repo, watchd):
    write_config(repo, [PYTEST_GATE])
    (repo / "tests").mkdir()
    (repo / "tests" / "test_math.py").write_text(textwrap.dedent("""\
        def test_adds():
            assert 1 + 1 == 2


        def test_breaks():
            assert 1 + 1 == 3
        """))
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "pytest")
    assert g["status"] == "fail" and g["files"] == ["tests/test_math.py"]
    assert len(g["findings"]) == 1, g["findings"]
    [f] = g["findings"]
    assert "test_breaks" in (f.get("code") or "") + f["message"] + json.dumps(f)
    assert "test_adds" not in json.dumps(f)
    assert f["path"] in ("tests/test_math.py", None, "")
    # fixed: the gate passes
    (repo / "tests" / "test_math.py").write_text("def test_adds():\n    assert 1 + 1 == 2\n")
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    assert gate(r.json, "pytest")["status"] == "pass"


SARIF_TOOL = '''\
"""Prints SARIF 2.1.0 for the files it is given: one result per HACK."""
import json, os, sys, urllib.parse
results = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            col = line.find("HACK")
            if col < 0:
                continue
            uri = path
            if os.environ.get("SARIF_ABSOLUTE_URIS"):
                uri = "file://" + urllib.parse.quote(os.path.abspath(path))
            results.append({
                "ruleId": "TD001", "level": "warning",
                "message": {"text": "HACK left in " + os.path.basename(path)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": n, "startColumn": col + 1}}}]})
json.dump({"version": "2.1.0",
           "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
           "runs": [{"tool": {"driver": {"name": "hack-finder", "rules": [
               {"id": "TD001", "helpUri": "https://example.invalid/TD001"}]}},
                     "results": results}]}, sys.stdout)
sys.exit(1 if results else 0)
'''


@pytest.mark.parametrize("absolute", [False, True], ids=["relative-uri", "file-uri"])
def test_sarif_parser(repo, watchd, tmp_path, absolute):
    tool = tmp_path / "hack_sarif.py"
    tool.write_text(SARIF_TOOL)
    write_config(repo, [{"name": "hacks", "type": "command", "include": ["**/*.txt"],
                         "command": ["/usr/bin/python3", str(tool), "{files}"],
                         "parser": "sarif"}])
    (repo / "notes dir").mkdir()
    (repo / "notes dir" / "a é.txt").write_text("fine\n  HACK: fix\n")
    (repo / "clean.txt").write_text("nothing\n")
    env = {"SARIF_ABSOLUTE_URIS": "1"} if absolute else None
    r = watchd("run", "--json", env_extra=env)
    assert r.rc == 1, str(r)
    g = gate(r.json, "hacks")
    assert g["status"] == "fail"
    [f] = g["findings"]
    assert (f["path"], f["line"], f["col"], f["code"], f["severity"]) == \
        ("notes dir/a é.txt", 2, 3, "TD001", "warning")
    assert "HACK left in" in f["message"]
    (repo / "notes dir" / "a é.txt").write_text("fine\n")
    r = watchd("run", "--json", env_extra=env)
    assert r.rc == 0, str(r)
    assert gate(r.json, "hacks")["status"] == "pass"


def test_run_appears_in_log_and_show(repo, watchd):
    write_config(repo, [SHELLCHECK, dict(SHELLCHECK, name="shellcheck-all",
                                         include=["**/*.sh", "**/*.bash"])])
    (repo / "bad.sh").write_text(UNQUOTED)
    (repo / "ok.sh").write_text(CLEAN)
    run = watchd("run", "--json").json
    log = watchd("log", "--json")
    assert log.rc == 0, str(log)
    assert isinstance(log.json, list) and log.json
    newest = log.json[0]
    assert newest["id"] == run["id"]
    check_run_shape(newest)
    for key in ("trigger", "status", "started_at", "finished_at", "git_head", "config_hash"):
        assert newest[key] == run[key], key
    assert newest["git_head"] == git(repo, "rev-parse", "HEAD").strip()
    assert {g["name"] for g in newest["gates"]} == {"shellcheck", "shellcheck-all"}

    shown = watchd("show", run["id"], "--json")
    assert shown.rc == 0, str(shown)
    check_run_shape(shown.json)
    assert len(shown.json["id"]) == 26
    for key in ("id", "trigger", "status", "started_at", "finished_at", "git_head",
                "config_hash"):
        assert shown.json[key] == run[key], key
    for name in ("shellcheck", "shellcheck-all"):
        a, b = gate(shown.json, name), gate(run, name)
        for key in ("status", "cached", "exit_code", "duration_ms", "files"):
            assert a[key] == b[key], (name, key)
        assert sorted((f["path"], f["line"], f["col"], f["code"]) for f in a["findings"]) == \
            sorted((f["path"], f["line"], f["col"], f["code"]) for f in b["findings"])
    # a unique prefix is enough; an unknown id is a usage error
    assert watchd("show", run["id"][:20], "--json").json["id"] == run["id"]
    assert watchd("show", "0" * 26, "--json").rc == 2

    second = watchd("run", "--json", "--no-cache").json
    ids = [x["id"] for x in watchd("log", "--json").json]
    assert ids[:2] == [second["id"], run["id"]]
    assert [x["id"] for x in watchd("log", "--json", "--limit", "1").json] == [second["id"]]


@pytest.mark.parametrize("gates", [[SHELLCHECK], [dict(SHELLCHECK, enabled=False)], []],
                         ids=["no-matching-file", "gate-disabled", "no-gates"])
def test_run_with_no_matching_files_passes(repo, watchd, gates):
    """Still a recorded run (trigger run, pass, no gates), as log and show say."""
    write_config(repo, gates)
    (repo / "readme.txt").write_text("no scripts here\n")
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    run = r.json
    check_run_shape(run)
    assert run["status"] == "pass" and run["gates"] == []
    assert run["git_head"] == git(repo, "rev-parse", "HEAD").strip()
    [logged] = watchd("log", "--json").json
    for key in ("id", "trigger", "status", "started_at", "finished_at", "git_head",
                "config_hash"):
        assert logged[key] == run[key], key
    assert watchd("show", run["id"], "--json").json["id"] == run["id"]
    text = watchd("run")
    assert text.rc == 0, str(text)
    assert "no file matched any gate" in text.stdout
    assert re.search(r"^run [0-9A-HJKMNP-TV-Z]{26}: pass$", text.stdout, re.M), text.stdout


def test_ignored_files_are_not_judged(repo, watchd):
    write_config(repo, [SHELLCHECK], ignore=["vendor/**"])
    (repo / "vendor").mkdir()
    (repo / "vendor" / "bad.sh").write_text(UNQUOTED)
    (repo / "gen").mkdir()
    (repo / "gen" / "bad.sh").write_text(UNQUOTED)
    (repo / ".gitignore").write_text("gen/\n")
    (repo / "ok.sh").write_text(CLEAN)
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    assert gate(r.json, "shellcheck")["files"] == ["ok.sh"]


def test_ignore_glob_with_a_slash_is_anchored_to_root(repo, watchd):
    """As in .gitignore, and as the README says: "vendor/**" is ROOT's
    vendor only, while "cache/" (a trailing slash alone) is any cache."""
    write_config(repo, [SHELLCHECK], ignore=["vendor/**", "cache/"])
    for d in ("vendor", "pkg/vendor", "cache", "pkg/cache"):
        (repo / d).mkdir(parents=True)
        (repo / d / "ok.sh").write_text(CLEAN)
    r = watchd("run", "--json")
    assert r.rc == 0, str(r)
    assert gate(r.json, "shellcheck")["files"] == ["pkg/vendor/ok.sh"]


def test_state_dir_is_hidden_from_git(repo, watchd):
    write_config(repo, [SHELLCHECK])
    (repo / "ok.sh").write_text(CLEAN)
    assert watchd("run").rc == 0
    assert (repo / ".watchd" / "ledger.db").exists()
    assert (repo / ".watchd" / ".gitignore").read_text().strip() == "*"
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert ".watchd" not in status


def _ruff_stand_in():
    """None when ruff (the stand-in in tests/tools, or a real one) answers."""
    try:
        p = subprocess.run([str(TOOLS_DIR / "ruff"), "--version"], capture_output=True,
                           text=True, timeout=60)
    except OSError as e:
        return f"tests/tools/ruff cannot run: {e}"
    if p.returncode != 0:
        return ("tests/tools/ruff does not run (scripts/install-test-tools.sh installs its "
                f"engine): {p.stderr.strip()[:200]}")
    return None


needs_ruff = pytest.mark.skipif(_ruff_stand_in() is not None, reason=_ruff_stand_in() or "")
RUFF = {"name": "ruff", "type": "ruff", "include": ["**/*.py"],
        "config_files": ["pyproject.toml", "ruff.toml"], "timeout_s": 120}


@needs_ruff
def test_ruff_gate(repo, watchd):
    write_config(repo, [RUFF])
    (repo / "pkg dir").mkdir()
    (repo / "pkg dir" / "-mod é.py").write_text("import os\n")
    (repo / "ok.py").write_text("print('hi')\n")
    r = watchd("run", "--json", timeout=120)
    assert r.rc == 1, str(r)
    g = gate(r.json, "ruff")
    assert g["status"] == "fail"
    assert sorted(g["files"]) == ["ok.py", "pkg dir/-mod é.py"]
    [f] = g["findings"]
    assert (f["path"], f["line"], f["col"], f["code"]) == ("pkg dir/-mod é.py", 1, 8, "F401")
    assert "os" in f["message"]


@needs_ruff
def test_ruff_config_file_change_invalidates_the_cache(repo, watchd):
    write_config(repo, [RUFF])
    (repo / "a.py").write_text("import os\n")
    g = gate(watchd("run", "--json", timeout=120).json, "ruff")
    assert g["status"] == "fail" and g["cached"] is False
    (repo / "ruff.toml").write_text('[lint]\nignore = ["F401"]\n')
    g = gate(watchd("run", "--json", timeout=120).json, "ruff")
    assert g["status"] == "pass" and g["cached"] is False
    g = gate(watchd("run", "--json", timeout=120).json, "ruff")
    assert g["status"] == "pass" and g["cached"] is True


@needs_ruff
def test_ruff_format_gate(repo, watchd):
    write_config(repo, [{"name": "fmt", "type": "ruff-format", "include": ["**/*.py"],
                         "timeout_s": 120}])
    (repo / "ugly.py").write_text('x = {  "a":1 }\n')
    (repo / "fine.py").write_text('x = {"a": 1}\n')
    r = watchd("run", "--json", timeout=120)
    assert r.rc == 1, str(r)
    g = gate(r.json, "fmt")
    assert g["status"] == "fail"
    assert [f["path"] for f in g["findings"]] == ["ugly.py"]


def test_relative_program_is_found_from_root(repo, watchd, tmp_path):
    """"./tool" means ROOT/tool (tools run in ROOT), wherever watchd starts."""
    tool = repo / "tools" / "check.sh"
    tool.parent.mkdir()
    tool.write_text('#!/bin/sh\n[ "$(pwd -P)" = "$ROOT_REAL" ] || exit 3\n'
                    'grep -l BAD "$@" && exit 1\nexit 0\n')
    tool.chmod(0o755)
    write_config(repo, [{"name": "rel", "type": "command", "include": ["**/*.txt"],
                         "command": ["./tools/check.sh", "{files}"]}])
    (repo / "a.txt").write_text("BAD\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "tools").mkdir(parents=True)  # no check.sh here
    env = {"ROOT_REAL": str(repo.resolve())}
    r = watchd("--root", repo, "run", "--json", cwd=elsewhere, env_extra=env)
    assert r.rc == 1, str(r)
    g = gate(r.json, "rel")
    assert g["status"] == "fail" and g["exit_code"] == 1, g
    (repo / "a.txt").write_text("fine\n")
    r = watchd("--root", repo, "run", "--json", cwd=elsewhere, env_extra=env)
    assert r.rc == 0 and gate(r.json, "rel")["status"] == "pass", str(r)


def test_newline_in_a_name_is_attributed_and_quoted(repo, watchd):
    """shellcheck prints "bad\\nnl.sh:2:6: ..." as two lines; the finding still
    names bad\\nnl.sh (never an invented nl.sh), and text output quotes it."""
    write_config(repo, [SHELLCHECK])
    (repo / "bad\nnl.sh").write_text(UNQUOTED)
    (repo / "ok.sh").write_text(CLEAN)
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "shellcheck")
    assert sorted(g["files"]) == ["bad\nnl.sh", "ok.sh"]
    assert {f["path"] for f in g["findings"]} == {"bad\nnl.sh"}, g["findings"]
    [f] = [f for f in g["findings"] if f["code"] == "SC2086"]
    assert (f["line"], f["col"]) == (2, 6)
    st = watchd("status", "--json").json  # no daemon: the ledger's state
    [sg] = st["gates"]
    assert sg["failing_files"] == 1 and sg["files"] == ["bad\nnl.sh"], sg

    quoted = '"bad\\nnl.sh"'
    for args in (["run", "--no-cache"], ["show", r.json["id"]], ["status"]):
        out = watchd(*args).stdout
        assert quoted in out, (args, out)
        assert not any(line.startswith("nl.sh") for line in out.splitlines()), (args, out)
    assert f"  {quoted}:2:6: " in watchd("run").stdout


def failing_files(watchd, name):
    """The ledger's per-file state for gate name (no daemon: status exits 3)."""
    st = watchd("status", "--json")
    assert st.rc == 3, str(st)
    [g] = [g for g in st.json["gates"] if g["name"] == name]
    return g["failing_files"], g["files"]


@pytest.mark.skipif(shutil.which("black") is None, reason="black is not installed")
def test_exit_parser_batch_failure_is_pinned_on_the_failing_file(repo, watchd):
    """black --check fails the batch without naming files: watchd re-runs it
    split, so only bad.py is failing, good.py's pass is cached, and fixing
    bad.py clears the gate."""
    write_config(repo, [{"name": "black", "type": "command", "include": ["**/*.py"],
                         "command": ["black", "--check", "--quiet", "{files}"],
                         "parser": "exit", "timeout_s": 120}])
    (repo / "bad.py").write_text("x=1\n")
    for n in ("good.py", "good2.py", "good3.py"):
        (repo / n).write_text("y = 2\n")
    r = watchd("run", "--json", timeout=120)
    assert r.rc == 1, str(r)
    g = gate(r.json, "black")
    assert g["status"] == "fail" and len(g["files"]) == 4, g
    assert failing_files(watchd, "black") == (1, ["bad.py"])
    # the same content again: all from the cache, still only bad.py
    g = gate(watchd("run", "--json", timeout=120).json, "black")
    assert g["cached"] is True and g["status"] == "fail"
    assert failing_files(watchd, "black") == (1, ["bad.py"])
    (repo / "bad.py").write_text("x = 1\n")
    r = watchd("run", timeout=120)
    assert r.rc == 0, str(r)
    assert "black                pass     4 file(s)" in r.stdout, r.stdout
    assert failing_files(watchd, "black") == (0, [])
    r = watchd("run", "--json", timeout=120)
    assert r.rc == 0 and gate(r.json, "black")["cached"] is True, str(r)


def test_batch_failing_as_a_whole_with_no_failing_file(repo, watchd, tmp_path):
    """A tool that fails on the batch but passes every file alone: the gate
    fails, no file is blamed and nothing is cached as a failure."""
    tool = tmp_path / "pair.py"
    tool.write_text("import sys\nsys.exit(1 if len(sys.argv) > 2 else 0)\n")
    write_config(repo, [{"name": "pair", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", str(tool), "{files}"]}])
    (repo / "a.txt").write_text("a\n")
    (repo / "b.txt").write_text("b\n")
    r = watchd("run", "--json")
    assert r.rc == 1, str(r)
    g = gate(r.json, "pair")
    assert g["status"] == "fail" and "no file fails on its own" in g["message"], g
    assert failing_files(watchd, "pair") == (0, [])


def test_task_runner_judges_the_whole_tree(repo, watchd, tmp_path):
    """No {files}: the tool judges the whole tree. Its result is cached under
    the content of every file the gate includes, a failure is never cached,
    and a pass after any change clears every file the gate had failed."""
    tool = tmp_path / "lint_all.py"
    tool.write_text("import glob, sys\n"
                    "sys.exit(1 if any('BAD' in open(f).read() for f in glob.glob('*.txt')) "
                    "else 0)\n")
    write_config(repo, [{"name": "lint", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", str(tool)]}])
    (repo / "a.txt").write_text("BAD\n")
    (repo / "b.txt").write_text("fine\n")
    r = watchd("run", "--json", "a.txt")
    assert r.rc == 1, str(r)
    g = gate(r.json, "lint")
    assert g["files"] == ["a.txt"] and g["input_digest"], g
    assert failing_files(watchd, "lint") == (1, ["a.txt"])
    g = gate(watchd("run", "--json", "a.txt").json, "lint")
    assert g["cached"] is False and g["status"] == "fail"   # a failure is not cached
    # b.txt is fine, but the tree is not: the task fails on it too
    r = watchd("run", "--json", "b.txt")
    assert r.rc == 1, str(r)
    assert failing_files(watchd, "lint") == (2, ["a.txt", "b.txt"])
    (repo / "a.txt").write_text("fixed\n")
    r = watchd("run", "--json", "a.txt")
    assert r.rc == 0, str(r)
    assert failing_files(watchd, "lint") == (0, [])       # b.txt cleared as well
    # the same tree: the pass is reused; another file changes: it is not
    g = gate(watchd("run", "--json", "a.txt").json, "lint")
    assert g["cached"] is True and g["status"] == "pass", g
    (repo / "c.txt").write_text("BAD\n")
    r = watchd("run", "--json", "a.txt")
    assert r.rc == 1 and gate(r.json, "lint")["cached"] is False, str(r)
