"""config/watch.config.schema.json documents watch.config.json exactly as
config/config.c and the executors in gates/ accept it: every key they know
is in the schema and nothing else, and example configs validate (or not)
the same way under the schema and under `watchd config check`."""
import copy
import json
import re

import pytest

from conftest import REPO_DIR, needs_watchd, write_config

SCHEMA_PATH = REPO_DIR / "config" / "watch.config.schema.json"

try:
    import jsonschema
except ImportError:  # Debian: python3-jsonschema
    jsonschema = None

needs_jsonschema = pytest.mark.skipif(jsonschema is None,
                                      reason="python3-jsonschema is not installed")


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def c_string_array(text, name):
    """The strings of `static const char *const NAME[] = { "a", "b", NULL };`."""
    m = re.search(r"\b" + re.escape(name) + r"\s*\[\]\s*=\s*\{(.*?)\};", text, re.S)
    assert m, f"{name}[] not found"
    return re.findall(r'"([^"]*)"', m.group(1))


def config_c_keys():
    text = (REPO_DIR / "config" / "config.c").read_text()
    return {
        "top": set(c_string_array(text, "top_keys")),
        "gate": set(c_string_array(text, "gate_common_keys")),
        "ledger": set(c_string_array(text, "ledger_keys")),
    }


def executor_keys():
    """{gate type: set of type-specific keys} from every gates/*.c that
    defines a `struct gate_ops` with a .type (and maybe .keys)."""
    out = {}
    for path in sorted((REPO_DIR / "gates").glob("*.c")):
        text = path.read_text()
        arrays = {m.group(1): c_string_array(text, m.group(1))
                  for m in re.finditer(r"(\w+_keys)\s*\[\]\s*=", text)}
        for m in re.finditer(r"const struct gate_ops \w+ = \{(.*?)\n\};", text, re.S):
            body = m.group(1)
            t = re.search(r'\.type\s*=\s*"([^"]+)"', body)
            if not t:
                continue
            k = re.search(r"\.keys\s*=\s*(\w+)", body)
            out[t.group(1)] = set(arrays[k.group(1)]) if k else set()
    assert out, "no gate executors found in gates/*.c"
    return out


def type_specific_schema_keys(schema):
    """{gate type: set of keys the schema's if/then adds for that type}."""
    out = {}
    for rule in schema["$defs"]["gate"].get("allOf", []):
        cond = rule["if"]["properties"]["type"]
        types = [cond["const"]] if "const" in cond else cond["enum"]
        for t in types:
            out.setdefault(t, set()).update(rule["then"].get("properties", {}))
    return out


def test_schema_top_level_keys_match_config_c(schema):
    keys = config_c_keys()
    assert set(schema["properties"]) == keys["top"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "gates"}
    ledger = schema["properties"]["ledger"]
    assert set(ledger["properties"]) == keys["ledger"]
    assert ledger["additionalProperties"] is False


def test_schema_gate_keys_match_config_c_and_executors(schema):
    keys = config_c_keys()
    gate = schema["$defs"]["gate"]
    assert set(gate["properties"]) == keys["gate"]
    assert gate["unevaluatedProperties"] is False
    execs = executor_keys()
    assert set(gate["properties"]["type"]["enum"]) == set(execs)
    specific = type_specific_schema_keys(schema)
    for t, ks in execs.items():
        assert specific.get(t, set()) == ks, f"type {t!r}"


def test_schema_every_key_has_a_description(schema):
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.get("properties", {}).items():
                if "description" not in v:
                    missing.append(f"{path}.{k}")
            for k, v in node.items():
                if k != "if":  # conditions, not keys
                    walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(schema, "$")
    assert not missing


def test_schema_defaults_and_ranges_follow_config_c(schema):
    text = (REPO_DIR / "config" / "config.c").read_text()
    props = schema["properties"]
    # config_get_int(root, "debounce_ms", "", 0, 600000, ...)
    for key, lo, hi in re.findall(r'config_get_int\(\w+, "(\w+)", "(?:ledger)?", (\d+), (\d+)',
                                  text):
        if key == "version":  # 1..1000 parsed, then anything but 1 refused
            continue
        node = props.get(key) or props["ledger"]["properties"][key]
        assert (node["minimum"], node["maximum"]) == (int(lo), int(hi)), key
    for key, lo, hi in re.findall(r'config_get_int\(obj, "(\w+)", prefix, (\d+), (\d+)', text):
        node = schema["$defs"]["gate"]["properties"][key]
        assert (node["minimum"], node["maximum"]) == (int(lo), int(hi)), key
    defaults = dict(re.findall(r"cfg->(\w+) = (\d+);", text))
    assert props["debounce_ms"]["default"] == int(defaults["debounce_ms"]) == 200
    assert props["max_wait_ms"]["default"] == int(defaults["max_wait_ms"]) == 2000
    assert props["stability_ms"]["default"] == int(defaults["stability_ms"]) == 100
    assert props["writer_timeout_ms"]["default"] == int(defaults["writer_timeout_ms"])
    assert props["ledger"]["properties"]["keep_days"]["default"] == \
        int(defaults["ledger_keep_days"])
    assert props["version"]["const"] == 1
    g = schema["$defs"]["gate"]["properties"]
    assert g["timeout_s"]["default"] == int(re.search(r"g->timeout_s = (\d+);", text).group(1))
    assert g["name"]["pattern"] == "^[A-Za-z0-9._-]+$"
    assert g["busy"]["enum"] == ["queue", "restart"]
    assert g["cache"]["enum"] == ["all", "pass-only", "none"]
    assert g["include"]["minItems"] == 1
    parsers = re.findall(r'\{ "(\w+)", parse_\w+',
                         (REPO_DIR / "gates" / "parsers.c").read_text())
    command_rule = [r for r in schema["$defs"]["gate"]["allOf"]
                    if r["if"]["properties"]["type"].get("const") == "command"][0]
    assert command_rule["then"]["required"] == ["command"]
    assert command_rule["then"]["properties"]["parser"]["enum"] == parsers
    desc = command_rule["then"]["properties"]["command"]["description"]
    for placeholder in ("{files}", "{file}", "{root}", "{report}"):
        assert placeholder in desc


VALID = [
    {"version": 1, "gates": []},
    {
        "$schema": "config/watch.config.schema.json",
        "version": 1, "debounce_ms": 200, "max_wait_ms": 2000, "stability_ms": 100,
        "writer_timeout_ms": 10000, "jobs": 0, "ignore": ["build/**"],
        "ledger": {"keep_days": 30, "keep_runs": 1000},
        "gates": [
            {"name": "ruff", "type": "ruff", "include": ["**/*.py"],
             "config_files": ["pyproject.toml", "ruff.toml"], "args": ["--select", "E,F"]},
            {"name": "ruff-format", "type": "ruff-format", "include": ["**/*.py"]},
            {"name": "pssa", "type": "psscriptanalyzer",
             "include": ["**/*.ps1", "**/*.psm1", "**/*.psd1"],
             "settings": "PSScriptAnalyzer.psd1"},
            {"name": "pester", "type": "pester", "include": ["**/*.Tests.ps1"],
             "triggers": ["**/*.ps1"], "map": {"src/{name}.ps1": "tests/{name}.Tests.ps1"},
             "cache": "pass-only", "busy": "restart"},
            {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
             "exclude": ["vendor/**"], "command": ["shellcheck", "-f", "gcc", "{files}"],
             "parser": "gcc", "timeout_s": 60, "batch_size": 50, "enabled": True},
            {"name": "pytest", "type": "command", "include": ["tests/test_*.py"],
             "command": ["python3", "-m", "pytest", "--junitxml={report}", "{file}"],
             "parser": "junit", "cache": "none"},
            {"name": "message", "type": "commit-msg", "types": ["feat", "fix", "docs"],
             "scopes": ["core", "cli"], "max_subject": 72},
        ],
    },
]

INVALID = {
    "unknown top key": {"version": 1, "gates": [], "debounce": 5},
    "version 2": {"version": 2, "gates": []},
    "missing gates": {"version": 1},
    "negative debounce": {"version": 1, "gates": [], "debounce_ms": -1},
    "fractional jobs": {"version": 1, "gates": [], "jobs": 1.5},
    "unknown ledger key": {"version": 1, "gates": [], "ledger": {"keep": 1}},
    "command as string": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"], "command": "make lint"}]},
    "command missing": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"]}]},
    "empty command": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"], "command": []}]},
    "unknown parser": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"], "command": ["x"], "parser": "tap"}]},
    "unknown type": {"version": 1, "gates": [{"name": "a", "type": "eslint", "include": ["*"]}]},
    "empty glob": {"version": 1, "gates": [{"name": "a", "type": "ruff", "include": [""]}]},
    "no include": {"version": 1, "gates": [{"name": "a", "type": "ruff", "include": []}]},
    "bad name": {"version": 1, "gates": [{"name": "a b", "type": "ruff", "include": ["*"]}]},
    "args on a command gate": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"], "command": ["x"], "args": []}]},
    "command on a ruff gate": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "command": ["x"]}]},
    "settings on pester": {"version": 1, "gates": [
        {"name": "a", "type": "pester", "include": ["*"], "settings": "x.psd1"}]},
    "bad busy": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "busy": "wait"}]},
    "bad cache": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "cache": "yes"}]},
    "timeout 0": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "timeout_s": 0}]},
    "map without name": {"version": 1, "gates": [
        {"name": "a", "type": "pester", "include": ["*"], "map": {"src/x.ps1": "t.ps1"}}]},
    "enabled as string": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "enabled": "yes"}]},
    "types as string on commit-msg": {"version": 1, "gates": [
        {"name": "m", "type": "commit-msg", "types": "feat"}]},
    "spaced type on commit-msg": {"version": 1, "gates": [
        {"name": "m", "type": "commit-msg", "types": ["new feature"]}]},
    "negative max_subject": {"version": 1, "gates": [
        {"name": "m", "type": "commit-msg", "max_subject": -1}]},
    "command on commit-msg": {"version": 1, "gates": [
        {"name": "m", "type": "commit-msg", "command": ["x"]}]},
    "types on a ruff gate": {"version": 1, "gates": [
        {"name": "a", "type": "ruff", "include": ["*"], "types": ["feat"]}]},
    "{files} inside an argument": {"version": 1, "gates": [
        {"name": "a", "type": "command", "include": ["*"], "command": ["x", "--f={files}"]}]},
}


def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@needs_jsonschema
def test_schema_is_a_valid_2020_12_schema(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@needs_jsonschema
def test_repository_config_validates(schema):
    path = REPO_DIR / "watch.config.json"
    if not path.exists():
        pytest.skip("the repository has no watch.config.json yet")
    errors = [e.message for e in validator(schema).iter_errors(json.loads(path.read_text()))]
    assert errors == []


@needs_jsonschema
@pytest.mark.parametrize("cfg", VALID, ids=["minimal", "full"])
def test_valid_examples(schema, cfg):
    assert [e.message for e in validator(schema).iter_errors(cfg)] == []


@needs_jsonschema
@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_examples(schema, name):
    assert list(validator(schema).iter_errors(INVALID[name])), name


@needs_jsonschema
@needs_watchd
@pytest.mark.parametrize("case", ["minimal", "full"] + sorted(INVALID))
def test_schema_agrees_with_config_check(schema, watchd, repo, case):
    """The schema and the real loader give the same verdict."""
    cfg = copy.deepcopy({"minimal": VALID[0], "full": VALID[1]}.get(case) or INVALID[case])
    gates = cfg.pop("gates", None)
    path = write_config(repo, gates, **cfg)
    if gates is None:  # "missing gates": write it without the key
        data = json.loads(path.read_text())
        del data["gates"]
        path.write_text(json.dumps(data))
    schema_ok = not list(validator(schema).iter_errors(json.loads(path.read_text())))
    r = watchd("config", "check")
    assert (r.rc == 0) == schema_ok, str(r)
    if not schema_ok:
        assert r.rc == 2, str(r)
