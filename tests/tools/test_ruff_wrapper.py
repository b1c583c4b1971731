"""Smoke tests for tests/tools/ruff, the ruff CLI stand-in built on Ruff's WASM engine.

Run: /usr/bin/python3 -m pytest -q tests/tools/test_ruff_wrapper.py
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUFF = REPO / "tests" / "tools" / "ruff"
INSTALL = REPO / "scripts" / "install-test-tools.sh"
PINNED = json.loads((REPO / "tests" / "tools" / "package.json").read_text())["dependencies"][
    "@astral-sh/ruff-wasm-nodejs"
]

KEYS = [
    "cell", "code", "end_location", "filename", "fix", "location", "message", "name",
    "noqa_row", "severity", "url",
]


@pytest.fixture(scope="session", autouse=True)
def installed():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm not on PATH; the ruff stand-in needs Node.js (scripts/install-test-tools.sh)")
    r = subprocess.run([str(INSTALL)], capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    # Idempotent and silent the second time.
    r = subprocess.run([str(INSTALL)], capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def ruff(*args, cwd):
    return subprocess.run([str(RUFF), *args], capture_output=True, text=True, cwd=cwd)


def write(d: Path, name: str, text: str) -> Path:
    p = d / name
    p.write_text(text)
    return p


@pytest.fixture
def proj(tmp_path):
    write(tmp_path, "unused.py", "import os\n")  # F401
    write(tmp_path, "undef.py", "x = y\n")  # F821
    write(tmp_path, "none_cmp.py", "x = 1\nif x == None:\n    pass\n")  # E711
    write(tmp_path, "syntax.py", "def f(:\n    pass\n")  # invalid-syntax
    write(tmp_path, "clean.py", "x = 1\n")
    return tmp_path


def check_json(cwd, *args):
    r = ruff("check", "--output-format=json", "--no-fix", *args, cwd=cwd)
    assert r.returncode in (0, 1), r.stderr
    assert not r.stdout.endswith("\n")
    return r, json.loads(r.stdout)


def test_version(tmp_path):
    r = ruff("--version", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, f"ruff {PINNED}\n")


def test_clean_file_prints_empty_array_exit_0(proj):
    r = ruff("check", "--output-format=json", "--no-fix", "--", "clean.py", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "[]")


def test_f401_exact_object(proj):
    r, diags = check_json(proj, "--select", "F401", "--", "unused.py")
    assert r.returncode == 1
    assert diags == [
        {
            "cell": None,
            "code": "F401",
            "end_location": {"column": 10, "row": 1},
            "filename": str(proj / "unused.py"),
            "fix": {
                "applicability": "safe",
                "edits": [
                    {"content": "", "end_location": {"column": 1, "row": 2}, "location": {"column": 1, "row": 1}}
                ],
                "message": "Remove unused import: `os`",
            },
            "location": {"column": 8, "row": 1},
            "message": "`os` imported but unused",
            "name": "unused-import",
            "noqa_row": 1,
            "severity": "error",
            "url": "https://docs.astral.sh/ruff/rules/unused-import",
        }
    ]
    # Key order and layout exactly as the CLI's renderer (2-space, alphabetical keys).
    assert r.stdout == json.dumps(diags, indent=2)
    assert list(diags[0]) == KEYS
    assert list(diags[0]["fix"]) == ["applicability", "edits", "message"]
    assert list(diags[0]["fix"]["edits"][0]) == ["content", "end_location", "location"]
    assert list(diags[0]["location"]) == ["column", "row"]


def test_default_selection_is_the_engines(proj):
    # Since ruff 0.16 the default rule set is ~400 rules and no longer contains E711.
    r, diags = check_json(proj, "--", "unused.py", "undef.py", "none_cmp.py", "syntax.py")
    assert r.returncode == 1
    got = [(Path(d["filename"]).name, d["code"], d["location"]["row"], d["location"]["column"]) for d in diags]
    assert got == [
        ("syntax.py", "invalid-syntax", 1, 7),
        ("syntax.py", "invalid-syntax", 1, 8),
        ("undef.py", "F821", 1, 5),
        ("unused.py", "F401", 1, 8),
    ]
    for d in diags:
        assert list(d) == KEYS
        assert d["severity"] == "error" and d["cell"] is None
        assert os.path.isabs(d["filename"])


def test_known_violations_with_select(proj):
    r, diags = check_json(proj, "--select", "E4,E7,E9,F", "--", "unused.py", "undef.py", "none_cmp.py", "syntax.py")
    assert r.returncode == 1
    by_code = {d["code"]: d for d in diags}
    assert sorted(by_code) == ["E711", "F401", "F821", "invalid-syntax"]

    f821 = by_code["F821"]
    assert (f821["location"], f821["end_location"]) == ({"column": 5, "row": 1}, {"column": 6, "row": 1})
    assert (f821["name"], f821["url"], f821["fix"], f821["noqa_row"]) == (
        "undefined-name", "https://docs.astral.sh/ruff/rules/undefined-name", None, 1)
    assert f821["message"] == "Undefined name `y`"

    e711 = by_code["E711"]
    assert (e711["location"], e711["end_location"]) == ({"column": 9, "row": 2}, {"column": 13, "row": 2})
    assert e711["name"] == "none-comparison"
    assert e711["url"] == "https://docs.astral.sh/ruff/rules/none-comparison"
    assert e711["noqa_row"] == 2
    assert e711["fix"]["applicability"] == "unsafe"
    assert e711["fix"]["edits"] == [
        {"content": "x is None", "end_location": {"column": 13, "row": 2}, "location": {"column": 4, "row": 2}}
    ]

    syn = [d for d in diags if d["code"] == "invalid-syntax"]
    assert [(d["location"], d["end_location"], d["message"]) for d in syn] == [
        ({"column": 7, "row": 1}, {"column": 8, "row": 1}, "Expected a parameter or the end of the parameter list"),
        ({"column": 8, "row": 1}, {"column": 1, "row": 2}, "Expected `)`, found newline"),
    ]
    for d in syn:
        assert (d["name"], d["noqa_row"], d["url"], d["fix"]) == ("invalid-syntax", None, None, None)
        assert d["filename"] == str(proj / "syntax.py")


def test_noqa_is_respected(tmp_path):
    write(tmp_path, "n.py", "import os  # noqa: F401\nimport sys  # noqa\n")
    r, diags = check_json(tmp_path, "--select", "F401", "n.py")
    assert (r.returncode, diags) == (0, [])


def test_directory_recursion_and_excludes(proj):
    (proj / "pkg").mkdir()
    write(proj / "pkg", "m.pyi", "import os\n")
    (proj / ".venv").mkdir()
    write(proj / ".venv", "v.py", "import os\n")
    (proj / "node_modules").mkdir()
    write(proj / "node_modules", "n.py", "import os\n")
    r, diags = check_json(proj, "--select", "F401", ".")
    # syntax.py: parse errors are reported whatever the selection.
    assert sorted({os.path.relpath(d["filename"], proj) for d in diags}) == ["pkg/m.pyi", "syntax.py", "unused.py"]
    # Named files are linted even in an excluded directory, unless --force-exclude.
    r, diags = check_json(proj, "--select", "F401", ".venv/v.py")
    assert [d["code"] for d in diags] == ["F401"]
    r, diags = check_json(proj, "--select", "F401", "--force-exclude", ".venv/v.py")
    assert (r.returncode, diags) == (0, [])


def test_pyproject_selection(proj):
    write(proj, "pyproject.toml", '[project]\nname = "x"\n\n[tool.ruff.lint]\nselect = ["E711"]  # only this\n')
    r, diags = check_json(proj, "--", "unused.py", "undef.py", "none_cmp.py")
    assert r.returncode == 1
    assert [d["code"] for d in diags] == ["E711"]
    # --select on the command line overrides the configuration, --ignore subtracts.
    r, diags = check_json(proj, "--select", "F", "--ignore", "F401", "--", "unused.py", "undef.py", "none_cmp.py")
    assert [d["code"] for d in diags] == ["F821"]


def test_ruff_toml_and_config_file(proj):
    write(proj, "ruff.toml", '[lint]\nselect = ["F821"]\n')
    r, diags = check_json(proj, "unused.py", "undef.py")
    assert [d["code"] for d in diags] == ["F821"]
    cfg = write(proj, "other.toml", 'lint.select = ["F401"]\n')
    r, diags = check_json(proj, "--config", str(cfg), "unused.py", "undef.py")
    assert [d["code"] for d in diags] == ["F401"]


def test_exit_zero(proj):
    r = ruff("check", "--output-format=json", "--exit-zero", "--select", "F401", "unused.py", cwd=proj)
    assert r.returncode == 0
    assert [d["code"] for d in json.loads(r.stdout)] == ["F401"]


def test_exit_2_on_bad_usage_and_config(proj):
    r = ruff("check", "--no-such-flag", "unused.py", cwd=proj)
    assert r.returncode == 2 and r.stderr.startswith("error:")
    r = ruff("check", "--output-format=json", "--select", "NOPE1", "unused.py", cwd=proj)
    assert r.returncode == 2 and r.stderr.startswith("ruff failed") and r.stdout == ""
    r = ruff("check", "--output-format=yaml", "unused.py", cwd=proj)
    assert r.returncode == 2 and r.stderr.startswith("error:")
    write(proj, "pyproject.toml", "[tool.ruff]\nline-length = \n")
    r = ruff("check", "--output-format=json", "unused.py", cwd=proj)
    assert r.returncode == 2 and r.stderr.startswith("ruff failed")
    write(proj, "pyproject.toml", "[tool.ruff]\nno-such-option = 1\n")
    r = ruff("check", "--output-format=json", "unused.py", cwd=proj)
    assert r.returncode == 2 and "unknown field" in r.stderr


def test_missing_path_is_e902_like_the_cli(proj):
    r, diags = check_json(proj, "--select", "E9,F", "missing.py")
    assert r.returncode == 1
    assert [(d["code"], d["name"], d["message"], d["location"]) for d in diags] == [
        ("E902", "io-error", "No such file or directory (os error 2)", {"column": 1, "row": 1})
    ]


def test_concise(proj):
    r = ruff("check", "--output-format=concise", "--select", "F401,F821", "unused.py", "undef.py", cwd=proj)
    assert r.returncode == 1
    assert r.stdout.splitlines()[:3] == [
        "undef.py:1:5: F821 Undefined name `y`",
        "unused.py:1:8: F401 [*] `os` imported but unused",
        "Found 2 errors.",
    ]


def test_format_check(proj):
    write(proj, "ugly.py", "x  =  [1,2,\n 3]\n")
    r = ruff("format", "--check", "--", "ugly.py", "clean.py", cwd=proj)
    assert (r.returncode, r.stdout) == (1, "Would reformat: ugly.py\n1 file would be reformatted, 1 file already formatted\n")
    r = ruff("format", "--check", "clean.py", cwd=proj)
    assert (r.returncode, r.stdout) == (0, "1 file already formatted\n")
    r = ruff("format", "--check", "syntax.py", cwd=proj)
    assert r.returncode == 2 and r.stderr.startswith("error: Failed to parse syntax.py:1:7:")


# The real CLI's snapshot for this command (astral-sh/ruff 0.16.4,
# crates/ruff/tests/cli/snapshots/cli__lint__output_format_json.snap), [TMP] = project dir.
SNAPSHOT_ARGS = ["check", "--no-cache", "--output-format", "json", "--select", "F401,F821",
                 "--target-version", "py39", "input.py"]
SNAPSHOT_INPUT = "import os  # F401\nx = y      # F821\nmatch 42:  # invalid-syntax\n    case _: ...\n"
SNAPSHOT_JSON = '[\n  {\n    "cell": null,\n    "code": "F401",\n    "end_location": {\n      "column": 10,\n      "row": 1\n    },\n    "filename": "[TMP]/input.py",\n    "fix": {\n      "applicability": "safe",\n      "edits": [\n        {\n          "content": "",\n          "end_location": {\n            "column": 1,\n            "row": 2\n          },\n          "location": {\n            "column": 1,\n            "row": 1\n          }\n        }\n      ],\n      "message": "Remove unused import: `os`"\n    },\n    "location": {\n      "column": 8,\n      "row": 1\n    },\n    "message": "`os` imported but unused",\n    "name": "unused-import",\n    "noqa_row": 1,\n    "severity": "error",\n    "url": "https://docs.astral.sh/ruff/rules/unused-import"\n  },\n  {\n    "cell": null,\n    "code": "F821",\n    "end_location": {\n      "column": 6,\n      "row": 2\n    },\n    "filename": "[TMP]/input.py",\n    "fix": null,\n    "location": {\n      "column": 5,\n      "row": 2\n    },\n    "message": "Undefined name `y`",\n    "name": "undefined-name",\n    "noqa_row": 2,\n    "severity": "error",\n    "url": "https://docs.astral.sh/ruff/rules/undefined-name"\n  },\n  {\n    "cell": null,\n    "code": "invalid-syntax",\n    "end_location": {\n      "column": 6,\n      "row": 3\n    },\n    "filename": "[TMP]/input.py",\n    "fix": null,\n    "location": {\n      "column": 1,\n      "row": 3\n    },\n    "message": "Cannot use `match` statement on Python 3.9 (syntax was added in Python 3.10)",\n    "name": "invalid-syntax",\n    "noqa_row": null,\n    "severity": "error",\n    "url": null\n  }\n]'
SNAPSHOT_GITHUB = '::error title=ruff (F401),file=[TMP]/input.py,line=1,col=8,endLine=1,endColumn=10::input.py:1:8: F401 `os` imported but unused%0A  help: Remove unused import: `os`\n::error title=ruff (F821),file=[TMP]/input.py,line=2,col=5,endLine=2,endColumn=6::input.py:2:5: F821 Undefined name `y`\n::error title=ruff (invalid-syntax),file=[TMP]/input.py,line=3,col=1,endLine=3,endColumn=6::input.py:3:1: invalid-syntax: Cannot use `match` statement on Python 3.9 (syntax was added in Python 3.10)\n'


def test_byte_identical_to_cli_snapshot(tmp_path):
    write(tmp_path, "input.py", SNAPSHOT_INPUT)
    r = ruff(*SNAPSHOT_ARGS, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout == SNAPSHOT_JSON.replace("[TMP]", str(tmp_path))
    args = SNAPSHOT_ARGS[:]
    args[3] = "github"
    r = ruff(*args, cwd=tmp_path)
    assert r.stdout == SNAPSHOT_GITHUB.replace("[TMP]", str(tmp_path))


def test_format_check_matches_pre_016_text(tmp_path):
    # format_check_default_v0.15.0: "Would reformat: <path>" lines, then the summary.
    write(tmp_path, "foo.py", 'foo =     "needs formatting"\n')
    write(tmp_path, "bar.py", 'bar =     "needs formatting"\n')
    r = ruff("format", "--check", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "Would reformat: bar.py\nWould reformat: foo.py\n2 files would be reformatted\n")
