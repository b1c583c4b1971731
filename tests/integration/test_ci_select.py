"""What `watchd ci` judges: --base takes any commit-ish, tracked files only
(also when a config-file change expands a gate), --shard splits the work
into (gate, file) pairs judged exactly once, and each file's reason is the
truth. Real git repositories made with the git CLI, real shellcheck and
pytest."""
import json
from collections import Counter

from conftest import commit_all, git, requires, write_config

pytestmark = requires("run", "show")

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "config_files": [".shellcheckrc"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}
PYTEST = {"name": "pytest", "type": "command", "include": ["tests/test_*.py"],
          "triggers": ["**/*.py"], "parser": "junit", "timeout_s": 120,
          "command": ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "--junitxml={report}", "{files}"]}


def base_project(repo, nsh=12):
    write_config(repo, [SHELLCHECK, PYTEST])
    (repo / ".shellcheckrc").write_text("# none disabled\n")
    for i in range(nsh):
        body = 'echo "$1"' if i % 3 else "echo $1"
        (repo / f"s{i}.sh").write_text(f"#!/bin/sh\n{body}\n")
    (repo / "pkg").mkdir()
    (repo / "tests").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "util.py").write_text("K = 1\n")
    for i in range(6):
        (repo / "pkg" / f"m{i}.py").write_text(f"def f():\n    return {i}\n")
        ok = "0" if i == 4 else str(i)
        (repo / "tests" / f"test_m{i}.py").write_text(
            f"from pkg.m{i} import f\n\n\ndef test_f():\n    assert f() == {ok}\n")
    commit_all(repo, "base")


def topic_with_config_change(repo):
    """A branch where the gate's config file and a trigger changed since main,
    one .sh file changed itself, and untracked files lie about."""
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / ".shellcheckrc").write_text("disable=SC2034\n")
    (repo / "s1.sh").write_text("#!/bin/sh\necho $2\n")
    (repo / "pkg" / "util.py").write_text("K = 2\n")
    commit_all(repo, "topic")
    (repo / "untracked.sh").write_text("#!/bin/sh\necho $9\n")
    (repo / "tests" / "test_untracked.py").write_text("def test_u():\n    assert False\n")


def pairs(run):
    files = [(g["name"], f) for g in run["gates"] for f in g["files"]]
    findings = [(g["name"], f.get("path"), f.get("line"), f.get("code"))
                for g in run["gates"] for f in g.get("findings", [])]
    return files, findings


def test_base_accepts_any_commit_ish(repo, watchd, tmp_path):
    write_config(repo, [SHELLCHECK])
    (repo / "a.sh").write_text('#!/bin/sh\necho "$1"\n')
    commit_all(repo, "one")
    git(repo, "tag", "-a", "v1", "-m", "release 1")      # annotated
    git(repo, "tag", "light")                            # lightweight
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "b.sh").write_text("#!/bin/sh\necho $1\n")
    commit_all(repo, "two")
    (repo / "c.sh").write_text('#!/bin/sh\necho "$2"\n')
    commit_all(repo, "three")
    # a remote branch: a clone's origin/main at the first commit
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    git(remote, "update-ref", "refs/heads/main", first)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "fetch", "-q", "origin")
    for ref in ("v1", "light", "refs/tags/v1", "HEAD~2", first[:8], "origin/main", "v1^{}"):
        r = watchd("ci", "--base", ref, "--format", "json")
        assert r.rc == 1, (ref, str(r))
        assert r.json["gates"][0]["files"] == ["b.sh", "c.sh"], (ref, r.json)
    r = watchd("ci", "--base", "HEAD~1", "--format", "json")
    assert r.json["gates"][0]["files"] == ["c.sh"] and r.rc == 0, str(r)
    for bad in ("no-such-ref", "v9", "HEAD~99"):
        r = watchd("ci", "--base", bad)
        assert r.rc == 2, str(r)
        assert bad in r.stderr and "merge base" not in r.stderr, r.stderr
    r = watchd("ci", "--base", "HEAD^{tree}")
    assert r.rc == 2 and "not a commit" in r.stderr, r.stderr


def test_tracked_files_only_also_when_config_expands(repo, watchd):
    base_project(repo, nsh=3)
    topic_with_config_change(repo)
    git(repo, "add", "-N", "tests/test_untracked.py")  # intent-to-add: not committed,
    git(repo, "rm", "-q", "--cached", "tests/test_untracked.py")  # then dropped again
    for args in ((), ("--base", "main")):
        r = watchd("ci", *args, "--format", "json", timeout=120)
        assert r.rc == 1, str(r)
        judged = [f for g in r.json["gates"] for f in g["files"]]
        assert "untracked.sh" not in judged and "tests/test_untracked.py" not in judged, judged
        assert "untracked.sh" not in json.dumps(r.json)
        sc = next(g for g in r.json["gates"] if g["name"] == "shellcheck")
        assert sc["files"] == ["s0.sh", "s1.sh", "s2.sh"], sc
    # a staged new file is tracked
    git(repo, "add", "untracked.sh")
    r = watchd("ci", "--base", "main", "--format", "json", timeout=120)
    sc = next(g for g in r.json["gates"] if g["name"] == "shellcheck")
    assert "untracked.sh" in sc["files"]


def test_reasons_say_changed_config_or_both(repo, watchd):
    base_project(repo, nsh=3)
    topic_with_config_change(repo)
    r = watchd("ci", "--base", "main", "--format", "json", timeout=120)
    assert r.rc == 1, str(r)
    run = watchd("show", r.json["id"], "--json").json
    sc = next(g for g in run["gates"] if g["name"] == "shellcheck")
    why = sc["reasons"]
    assert why["s1.sh"].startswith("changed; config file .shellcheckrc changed"), why
    assert why["s0.sh"].startswith("config file .shellcheckrc changed"), why
    assert not why["s0.sh"].startswith("changed"), why
    py = next(g for g in run["gates"] if g["name"] == "pytest")
    assert all(v.startswith("triggered by pkg/util.py") for v in py["reasons"].values()), py
    # only the file changed: "changed" alone
    (repo / "untracked.sh").unlink()
    (repo / "tests" / "test_untracked.py").unlink()
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "s2.sh").write_text("#!/bin/sh\necho $3\n")
    commit_all(repo, "s2")
    r = watchd("ci", "--base", "main", "--format", "json", timeout=120)
    run = watchd("show", r.json["id"], "--json").json
    sc = next(g for g in run["gates"] if g["name"] == "shellcheck")
    assert sc["files"] == ["s2.sh"]
    assert sc.get("reasons", {}).get("s2.sh", "changed").startswith("changed"), sc
    assert "config" not in sc.get("reasons", {}).get("s2.sh", "")


def shard_union(watchd, n, *args):
    files, findings = [], []
    for k in range(1, n + 1):
        r = watchd("ci", *args, "--shard", f"{k}/{n}", "--format", "json", timeout=120)
        assert r.rc in (0, 1), str(r)
        f, x = pairs(r.json)
        files += f
        findings += x
    return files, findings


def check_shards(watchd, *args):
    r = watchd("ci", *args, "--format", "json", timeout=120)
    assert r.rc == 1, str(r)
    files, findings = pairs(r.json)
    assert len(files) == len(set(files))
    for n in range(1, 6):
        sf, sx = shard_union(watchd, n, *args)
        dup = [p for p, c in Counter(sf).items() if c > 1]
        assert not dup, (n, dup)
        assert sorted(sf) == sorted(files), n
        assert sorted(sx) == sorted(findings), n
    return files


def test_shards_partition_the_work_with_config_change(repo, watchd):
    base_project(repo)
    topic_with_config_change(repo)
    files = check_shards(watchd, "--base", "main")
    # the config change expanded shellcheck to every tracked .sh, the
    # trigger pytest to every test: all of them, each in one shard
    assert sum(1 for g, _ in files if g == "shellcheck") == 12
    assert sum(1 for g, _ in files if g == "pytest") == 6


def test_shards_partition_the_work_without_base(repo, watchd):
    base_project(repo)
    files = check_shards(watchd)
    assert len(files) == 12 + 6


def test_shards_run_a_whole_tree_gate_once(repo, watchd):
    """A gate given no file names (a task runner) judges the tree in one
    process: it runs in exactly one shard, not in each holding its files."""
    tree = {"name": "tree", "type": "command", "include": ["**/*.sh"], "parser": "gcc",
            "command": ["/bin/sh", "-c", "echo 's0.sh:1:1: warning: tree-wide [T1]'; exit 1"]}
    base_project(repo)
    write_config(repo, [SHELLCHECK, tree])
    commit_all(repo, "tree gate")
    r = watchd("ci", "--format", "json", timeout=120)
    files, findings = pairs(r.json)
    assert sum(1 for f in findings if f[0] == "tree") == 1
    for n in (2, 3, 5):
        sf, sx = shard_union(watchd, n)
        assert sorted(sx) == sorted(findings), n
        assert sorted(sf) == sorted(files), n
