"""watchd config check|print, --help, version and usage errors, as a user
runs them in a repository."""
import json
import re

import pytest

from conftest import needs_binary, needs_watchd, write_config

needs_config = needs_watchd

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}


def position(text, needle, nth=0):
    """1-based (line, column) of the nth occurrence of needle in text."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col


def member_positions(text, key, value, nth=0):
    """Where the member `"key": value` (value as it starts in the text) sits:
    the positions of its key and of its value. An error may point at either."""
    needle = f'"{key}": {value}'
    line, col = position(text, needle, nth)
    return {(line, col), (line, col + len(f'"{key}": '))}


def config_error(stderr):
    """(line, col, rest) of the `watch.config.json:LINE:COL: ...` message."""
    m = re.search(r"watch\.config\.json:(\d+):(\d+): (.*)", stderr)
    assert m, f"no watch.config.json:LINE:COL in stderr: {stderr!r}"
    return int(m.group(1)), int(m.group(2)), m.group(3)


@needs_config
def test_valid_config_checks_ok(repo, watchd):
    write_config(repo, [SHELLCHECK], debounce_ms=100, ignore=["build/**"])
    r = watchd("config", "check")
    assert r.rc == 0, str(r)
    assert r.stderr == "" or "error" not in r.stderr.lower()


@needs_config
def test_config_check_from_a_subdirectory_finds_root(repo, watchd):
    write_config(repo, [SHELLCHECK])
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    assert watchd("config", "check", cwd=sub).rc == 0


@needs_config
def test_config_flag_names_another_file(repo, watchd):
    other = repo / "alt.json"
    other.write_text(json.dumps({"version": 1, "gates": [SHELLCHECK]}))
    assert watchd("--config", other, "config", "check").rc == 0
    assert watchd("config", "check").rc == 2  # ROOT/watch.config.json does not exist


def write_raw(repo, text):
    (repo / "watch.config.json").write_text(text, encoding="utf-8")
    return text


@needs_config
def test_unknown_top_level_key(repo, watchd):
    text = write_raw(repo, '{\n  "version": 1,\n  "gates": [],\n  "debounce": 5\n}\n')
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert (line, col) in member_positions(text, "debounce", "5")
    assert rest.startswith("debounce: ") and "unknown key" in rest


@needs_config
def test_command_given_as_a_string(repo, watchd):
    gate = dict(SHELLCHECK, command="shellcheck -f gcc {files}")
    text = write_config(repo, [gate]).read_text()
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert (line, col) in member_positions(text, "command", '"shellcheck -f gcc')
    assert rest.startswith("gates[0].command: ")
    assert "array" in rest and "string" in rest


@needs_config
def test_unknown_gate_type(repo, watchd):
    text = write_config(repo, [SHELLCHECK, {"name": "lint", "type": "eslint",
                                            "include": ["**/*.js"]}]).read_text()
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert (line, col) in member_positions(text, "type", '"eslint"')
    assert rest.startswith("gates[1].type: ") and "eslint" in rest
    for known in ("command", "ruff", "ruff-format", "psscriptanalyzer", "pester"):
        assert known in rest


@needs_config
def test_empty_glob(repo, watchd):
    text = write_config(repo, [dict(SHELLCHECK, include=["", "**/*.sh"])]).read_text()
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert (line, col) == position(text, '""')
    assert rest.startswith("gates[0].include[0]: ")
    assert "empty" in rest


@needs_config
def test_duplicate_gate_names(repo, watchd):
    text = write_config(repo, [SHELLCHECK, dict(SHELLCHECK, include=["*.bash"])]).read_text()
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert (line, col) in member_positions(text, "name", '"shellcheck"', nth=1)
    assert rest.startswith("gates[1].name: ")
    assert "duplicate" in rest and "shellcheck" in rest


@needs_config
def test_invalid_json_names_line_and_column(repo, watchd):
    text = write_raw(repo, '{\n  "version": 1,\n  "gates": [,]\n}\n')
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    line, col, rest = config_error(r.stderr)
    assert line == 3
    # cJSON may point one past the problem; the message says "near"
    assert col in (position(text, ",]")[1], position(text, ",]")[1] + 1)
    assert "JSON" in rest


@needs_config
def test_missing_config_file(repo, watchd):
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    assert "watch.config.json" in r.stderr
    assert r.stdout == ""


@needs_config
def test_type_specific_key_on_the_wrong_type(repo, watchd):
    write_config(repo, [{"name": "ruff", "type": "ruff", "include": ["*.py"],
                         "parser": "gcc"}])
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    _, _, rest = config_error(r.stderr)
    assert rest.startswith("gates[0].parser: ")


@needs_config
def test_every_error_exits_2_before_anything_runs(repo, watchd):
    """run loads the config first: no ledger, no state dir on a bad config."""
    write_config(repo, [dict(SHELLCHECK, timeout_s=0)])
    (repo / "a.sh").write_text("#!/bin/sh\necho $1\n")
    r = watchd("run", "--json")
    assert r.rc == 2, str(r)
    _, _, rest = config_error(r.stderr)
    assert rest.startswith("gates[0].timeout_s: ")
    assert not (repo / ".watchd" / "ledger.db").exists()


@needs_config
def test_config_print_fills_in_defaults(repo, watchd):
    write_config(repo, [SHELLCHECK])
    r = watchd("config", "print")
    assert r.rc == 0, str(r)
    cfg = r.json
    assert isinstance(cfg, dict), str(r)
    assert cfg["version"] == 1
    assert cfg["debounce_ms"] == 200
    assert cfg["stability_ms"] == 100
    assert cfg["max_wait_ms"] == 2000
    assert cfg["writer_timeout_ms"] == 10000
    assert cfg["jobs"] == 0
    assert cfg["ignore"] == []
    assert cfg["ledger"]["keep_days"] == 30
    [g] = cfg["gates"]
    assert g["name"] == "shellcheck" and g["type"] == "command"
    assert g["command"] == SHELLCHECK["command"]
    assert g["parser"] == "gcc"
    assert g["timeout_s"] == 300
    assert g["busy"] == "queue"
    assert g["cache"] == "all"


@needs_config
def test_config_print_keeps_given_values(repo, watchd):
    write_config(repo, [dict(SHELLCHECK, timeout_s=7, cache="none")],
                 debounce_ms=50, max_wait_ms=10, ignore=["vendor/**"])
    cfg = watchd("config", "print").json
    assert cfg["debounce_ms"] == 50
    assert cfg["max_wait_ms"] == 50  # raised to debounce_ms
    assert cfg["ignore"] == ["vendor/**"]
    assert cfg["gates"][0]["timeout_s"] == 7
    assert cfg["gates"][0]["cache"] == "none"


@needs_config
def test_config_print_on_a_bad_config_exits_2(repo, watchd):
    write_config(repo, [dict(SHELLCHECK, busy="later")])
    r = watchd("config", "print")
    assert r.rc == 2
    assert config_error(r.stderr)[2].startswith("gates[0].busy: ")


@needs_config
def test_config_without_subcommand_is_a_usage_error(repo, watchd):
    write_config(repo, [SHELLCHECK])
    assert watchd("config").rc == 2
    assert watchd("config", "frobnicate").rc == 2


@needs_binary
@pytest.mark.parametrize("args", [["--help"], ["-h"], ["version"], ["--version"]])
def test_help_and_version_exit_0(repo, watchd, args):
    r = watchd(*args)
    assert r.rc == 0, str(r)
    assert r.stdout.strip()
    if "version" in args[0]:
        assert r.stdout.startswith("watchd ")
    else:
        for cmd in ("start", "stop", "status", "run", "log", "show", "config", "version"):
            assert re.search(r"^\s+" + cmd + r"\b", r.stdout, re.M), cmd


@needs_binary
@pytest.mark.parametrize("args", [["frobnicate"], ["--bogus-option", "status"], []])
def test_unknown_command_exits_2(repo, watchd, args):
    r = watchd(*args)
    assert r.rc == 2, str(r)
    assert "usage" in r.stderr.lower()
    assert r.stdout == ""


@needs_config
@pytest.mark.parametrize("command, index, words", [
    (["shellcheck", "{files}", "{file}"], 2, ["{files}", "{file}", "both"]),
    (["shellcheck", "{files}", "{files}"], 2, ["{files}", "once"]),
    (["{files}"], 0, ["program"]),
    (["shellcheck", "--format={bogus}", "{files}"], 1, ["unknown placeholder {bogus}"]),
], ids=["files-and-file", "files-twice", "files-as-program", "unknown-placeholder"])
def test_bad_command_placeholders(repo, watchd, command, index, words):
    text = write_config(repo, [SHELLCHECK, dict(SHELLCHECK, name="sh2",
                                                command=command)]).read_text()
    for args in (["config", "check"], ["run", "--json"]):
        r = watchd(*args)
        assert r.rc == 2, str(r)
        line, col, rest = config_error(r.stderr)
        # the element itself (write_config puts one array element per line)
        start = text.index('"command": [', text.index('"name": "sh2"'))
        elem_line = text.count("\n", 0, start) + 2 + index
        elem = text.splitlines()[elem_line - 1]
        assert (line, col) == (elem_line, elem.index('"') + 1), (line, col, elem)
        assert rest.startswith(f"gates[1].command[{index}]: "), rest
        for w in words:
            assert w in rest, rest
    assert not (repo / ".watchd" / "ledger.db").exists()
