"""CI mirror mode: the same gates over tracked files (or those changed since
a base), with JUnit, SARIF and GitHub reports, and deterministic shards."""
import json
import xml.etree.ElementTree as ET

from conftest import commit_all, git, requires, write_config

pytestmark = requires("run")

GATE = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
        "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}


def project(repo):
    write_config(repo, [GATE])
    (repo / "good.sh").write_text('#!/bin/sh\necho "$1"\n')
    (repo / "bad.sh").write_text("#!/bin/sh\necho $1\n")
    commit_all(repo, "base")


def test_ci_reports(repo, watchd, tmp_path):
    project(repo)
    (repo / "untracked.sh").write_text("#!/bin/sh\necho $2\n")  # not tracked: not checked
    junit, sarif = tmp_path / "r.xml", tmp_path / "r.sarif"
    r = watchd("ci", "--format", "github", "--report", f"junit={junit}",
               "--report", f"sarif={sarif}")
    assert r.rc == 1, str(r)
    lines = r.stdout.splitlines()
    assert any(x.startswith("::notice file=bad.sh,line=2,col=6,title=shellcheck (SC2086)::")
               for x in lines), lines
    assert "untracked.sh" not in r.stdout
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("failures") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"bad.sh", "good.sh"}
    assert cases["bad.sh"].find("failure") is not None
    assert cases["good.sh"].find("failure") is None
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0"
    res = doc["runs"][0]["results"][0]
    assert res["ruleId"] == "SC2086"
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "bad.sh" and loc["region"]["startLine"] == 2
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "SC2086"
    runs = watchd("log", "--json").json
    assert runs[0]["trigger"] == "ci"


def test_ci_base_and_shards(repo, watchd):
    project(repo)
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "new.sh").write_text("#!/bin/sh\necho $3\n")
    commit_all(repo, "topic")
    r = watchd("ci", "--base", "main", "--format", "json")
    assert r.rc == 1, str(r)
    assert r.json["gates"][0]["files"] == ["new.sh"]
    assert watchd("ci", "--base", "no-such-ref").rc == 2
    for i in range(20):
        (repo / f"s{i}.sh").write_text('#!/bin/sh\necho "$1"\n')
    commit_all(repo, "more")
    seen = []
    for k in (1, 2, 3):
        r = watchd("ci", "--shard", f"{k}/3", "--format", "json")
        assert r.rc in (0, 1)
        seen += r.json["gates"][0]["files"] if r.json["gates"] else []
    tracked = sorted(p for p in git(repo, "ls-files").split() if p.endswith(".sh"))
    assert sorted(seen) == tracked  # every file in exactly one shard
    assert watchd("ci", "--shard", "4/3").rc == 2
