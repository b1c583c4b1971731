"""`watchd ci` on GitHub Actions: the github format by default, a log group
per gate, annotations most severe first within GitHub's caps (10 per kind
per step), every finding in the job summary, the command that reproduces
the run, and a restored ledger (CI cache) reused with the hits reported."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from conftest import WATCHD, commit_all, git, requires, write_config

pytestmark = requires("run")

# a linter that reports, per file, one error, one warning and one note in
# gcc's format: enough files overflow every cap
LINT = """\
import sys
for p in sys.argv[1:]:
    print(f"{p}:1:1: error: bad thing [E1]")
    print(f"{p}:2:1: warning: odd thing [W1]")
    print(f"{p}:3:1: note: small thing [N1]")
sys.exit(1 if sys.argv[1:] else 0)
"""

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}


def lint_gate(tool):
    return {"name": "lint", "type": "command", "include": ["**/*.txt"],
            "command": ["/usr/bin/python3", str(tool), "{files}"], "parser": "gcc"}


def project(repo, tmp_path, ntxt=15):
    tool = tmp_path / "lint.py"
    tool.write_text(LINT)
    write_config(repo, [lint_gate(tool), SHELLCHECK])
    for i in range(ntxt):
        (repo / f"t{i:02d}.txt").write_text(f"{i}\n")
    (repo / "bad.sh").write_text("#!/bin/sh\necho $1\n")
    commit_all(repo, "project")


def gha(tmp_path, **extra):
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    env.update(extra)
    return env, summary


def test_github_groups_caps_summary_and_repro(repo, watchd, tmp_path):
    project(repo, tmp_path)
    env, summary = gha(tmp_path)
    summary.write_text("earlier step\n")
    r = watchd("ci", env_extra=env)
    assert r.rc == 1, str(r)
    lines = r.stdout.splitlines()
    # a group per gate, closed
    groups = [x for x in lines if x.startswith("::group::")]
    assert sorted(g.split("::")[2].split(":")[0] for g in groups) == ["lint", "shellcheck"], groups
    assert lines.count("::endgroup::") == 2
    # every finding is in the groups as text
    assert sum(1 for x in lines if re.match(r"^t\d\d\.txt:\d:1: ", x)) == 45
    # annotations: most severe first, at most 10 per kind
    notes = [x for x in lines if re.match(r"^::(error|warning|notice) ", x)]
    kinds = [x[2:].split(" ")[0] for x in notes]
    assert kinds == ["error"] * 10 + ["warning"] * 10 + ["notice"] * 10, kinds
    assert any("more finding(s) not annotated" in x for x in lines)
    # the summary: appended, a table of gates, then every finding
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "| lint | fail | 15 |" in text and "| shellcheck | fail | 1 |" in text, text
    rows = [x for x in text.splitlines() if re.match(r"^\| (error|warning|info) \|", x)]
    assert len(rows) == 45 + 1, rows
    # it ends with the local command that reproduces it
    assert lines[-1].startswith("reproduce locally: "), lines[-1]
    assert "Reproduce locally" in text


def test_explicit_format_wins_and_repro_goes_to_stderr(repo, watchd, tmp_path):
    project(repo, tmp_path, ntxt=2)
    env, _ = gha(tmp_path)
    r = watchd("ci", "--format", "json", env_extra=env)
    assert r.rc == 1 and r.json["status"] == "fail", str(r)
    assert "reproduce locally: " in r.stderr
    r = watchd("ci")  # not on GitHub: text
    assert "::group::" not in r.stdout and "lint" in r.stdout
    assert r.stdout.splitlines()[-1].startswith("reproduce locally: ")


def test_repro_command_reproduces_the_run(repo, watchd, tmp_path):
    project(repo, tmp_path, ntxt=3)
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "t01.txt").write_text("changed\n")
    (repo / "new.sh").write_text('#!/bin/sh\necho "$1"\n')
    commit_all(repo, "topic")
    env, _ = gha(tmp_path, WATCHD_SKIP="nothing")
    r = watchd("ci", "--base", "main", "--shard", "1/1", "--report",
               f"json={tmp_path / 'ci.json'}", env_extra=env)
    assert r.rc == 1, str(r)
    repro = r.stdout.splitlines()[-1][len("reproduce locally: "):]
    head = git(repo, "rev-parse", "HEAD").strip()
    mb = git(repo, "merge-base", "HEAD", "main").strip()
    assert repro.startswith(f"git checkout {head} && WATCHD_SKIP=nothing watchd ci "), repro
    assert f"--base {mb}" in repro and "--shard 1/1" in repro and "--report" not in repro
    # run it as a user would paste it: same files, same findings
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("GITHUB_", "WATCHD_TEST_"))}
    e["PATH"] = f"{Path(WATCHD).parent}:{e['PATH']}"
    assert Path(WATCHD).name == "watchd"
    p = subprocess.run(["/bin/sh", "-c", repro + " --format json"], cwd=repo, env=e,
                       capture_output=True, text=True, timeout=120)
    ci = json.loads((tmp_path / "ci.json").read_text())
    local = json.loads(p.stdout)
    assert p.returncode == 1, p.stderr

    def shape(run):
        return sorted((g["name"], g["files"], sorted((f["path"], f["line"], f.get("code"))
                                                     for f in g.get("findings", [])))
                      for g in run["gates"])
    assert shape(local) == shape(ci)
    assert [g[:2] for g in shape(ci)] == [("lint", ["t01.txt"]), ("shellcheck", ["new.sh"])]


def test_restored_ledger_is_reused_and_the_summary_says_so(repo, watchd, tmp_path, env):
    project(repo, tmp_path, ntxt=4)
    r = watchd("ci", "--format", "json")
    assert r.rc == 1 and not any(g["cached"] for g in r.json["gates"]), str(r)
    # the CI cache: .watchd/ledger.db saved, restored into a fresh checkout
    saved = tmp_path / "cache"
    saved.mkdir()
    shutil.copy(repo / ".watchd" / "ledger.db", saved / "ledger.db")
    clone = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    (clone / ".watchd").mkdir()
    shutil.copy(saved / "ledger.db", clone / ".watchd" / "ledger.db")
    e, summary = gha(tmp_path)
    r = watchd("ci", cwd=clone, env_extra=e)
    assert r.rc == 1, str(r)
    text = summary.read_text()
    assert "| lint | fail | 4 | 4 | 12 |" in text, text
    assert "| shellcheck | fail | 1 | 1 | 1 |" in text, text
    assert "4 from the cache" in r.stdout
    r = watchd("ci", "--format", "json", cwd=clone)
    assert all(g["cached"] for g in r.json["gates"]), r.json


FAKE_RUFF = """\
#!/usr/bin/python3
import os, sys
with open(os.environ["RUFF_LOG"], "a") as f:
    f.write(" ".join(sys.argv[1:2]) + "\\n")
if sys.argv[1:2] == ["--version"]:
    print("ruff 0.0.1")
else:
    print("[]")
"""


def test_warm_ci_from_a_restored_ledger_starts_no_tool(repo, watchd, tmp_path):
    """Every result in the ledger: not even the version probe runs."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ruff = bindir / "ruff"
    ruff.write_text(FAKE_RUFF)
    ruff.chmod(0o755)
    log = tmp_path / "ruff.log"
    write_config(repo, [{"name": "ruff", "type": "ruff", "include": ["**/*.py"]}])
    for i in range(5):
        (repo / f"m{i}.py").write_text(f"X = {i}\n")
    commit_all(repo, "py")
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "RUFF_LOG": str(log)}
    r = watchd("ci", "--format", "json", env_extra=env)
    assert r.rc == 0, str(r)
    assert "--version" in log.read_text() and "check" in log.read_text()
    clone = tmp_path / "runner"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    (clone / ".watchd").mkdir()
    shutil.copy(repo / ".watchd" / "ledger.db", clone / ".watchd" / "ledger.db")
    log.write_text("")
    r = watchd("ci", "--format", "json", cwd=clone, env_extra=env)
    assert r.rc == 0 and r.json["gates"][0]["cached"] is True, str(r)
    assert log.read_text() == "", log.read_text()
