"""`watchd ci` for GitLab: a Code Quality report (artifacts:reports:codequality)
holding every finding once, with stable unique fingerprints, beside the JUnit
report (artifacts:reports:junit)."""
import json
import xml.etree.ElementTree as ET

from conftest import commit_all, requires, write_config

pytestmark = requires("run")

GATE = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
        "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}


def test_codequality_and_junit(repo, watchd, tmp_path):
    write_config(repo, [GATE])
    # the same finding twice in one file, and a warning and a note
    (repo / "a b.sh").write_text("#!/bin/sh\necho $1\necho $1\nx=`ls`\n")
    (repo / "ok.sh").write_text('#!/bin/sh\necho "$1"\n')
    commit_all(repo, "project")
    cq, junit = tmp_path / "gl-code-quality-report.json", tmp_path / "junit.xml"
    r = watchd("ci", "--format", "json", "--report", f"codequality={cq}",
               "--report", f"junit={junit}", env_extra={"GITLAB_CI": "true"})
    assert r.rc == 1, str(r)
    findings = r.json["gates"][0]["findings"]
    issues = json.loads(cq.read_text())
    assert isinstance(issues, list) and len(issues) == len(findings) == 4, issues
    for i in issues:
        assert i["type"] == "issue"
        assert i["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert i["description"] and i["check_name"].startswith("shellcheck/SC")
        assert i["location"]["path"] == "a b.sh" and i["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == 4
    sev = {(i["check_name"], i["location"]["lines"]["begin"]): i["severity"] for i in issues}
    assert sev[("shellcheck/SC2034", 4)] == "minor" and sev[("shellcheck/SC2086", 2)] == "info"
    # the same content elsewhere in the file keeps its fingerprint: no line in it
    before = {i["fingerprint"] for i in issues if i["check_name"] == "shellcheck/SC2034"}
    (repo / "a b.sh").write_text("#!/bin/sh\n\necho $1\necho $1\nx=`ls`\n")
    commit_all(repo, "moved")
    assert watchd("ci", "--report", f"codequality={cq}").rc == 1
    after = {i["fingerprint"] for i in json.loads(cq.read_text())
             if i["check_name"] == "shellcheck/SC2034"}
    assert before == after
    cases = {c.get("name") for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases == {"a b.sh", "ok.sh"}
    assert watchd("ci", "--format", "nope").rc == 2
