"""The pre-commit hook: `watchd check --staged` judges exactly the staged
content (never the working tree), works for `commit -a` and `commit PATHS`
(where git points GIT_INDEX_FILE at another index), and reuses what the
daemon already judged for the same content."""
import subprocess

from conftest import commit_all, git, requires, write_config

pytestmark = requires("start", "status", "log")

SHELLCHECK = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
              "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}
GOOD = '#!/bin/sh\necho "$1"\n'
BAD = '#!/bin/sh\necho $1\n'


def commit(repo, env, *args):
    e = dict(env)
    return subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "c", *args],
                          env=e, capture_output=True, text=True)


def prepare(repo, watchd):
    write_config(repo, [SHELLCHECK], debounce_ms=50, stability_ms=20)
    commit_all(repo)
    r = watchd("hook", "install")
    assert r.rc == 0, str(r)


def test_install_uninstall_and_foreign_hooks(repo, watchd):
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    r = watchd("hook", "install")
    assert r.rc == 2 and "--force" in r.stderr
    assert watchd("hook", "install", "--force").rc == 0
    assert "check --staged" in (hooks / "pre-commit").read_text()
    assert (hooks / "pre-commit.local").read_text() == "#!/bin/sh\necho mine\n"
    assert watchd("hook", "install").rc == 0  # ours already: idempotent
    assert watchd("hook", "uninstall").rc == 0
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho mine\n"


def test_staged_content_decides_not_the_work_tree(repo, watchd, env):
    prepare(repo, watchd)
    (repo / "a.sh").write_text(BAD)
    git(repo, "add", "a.sh")
    r = commit(repo, env)
    assert r.returncode != 0 and "SC2086" in r.stdout + r.stderr
    (repo / "a.sh").write_text(GOOD)          # fixed, but not staged
    r = commit(repo, env)
    assert r.returncode != 0, "an unstaged fix must not let the bad content through"
    git(repo, "add", "a.sh")
    r = commit(repo, env)
    assert r.returncode == 0, r.stdout + r.stderr
    # the reverse: good staged, bad in the work tree -> the commit goes in
    (repo / "b.sh").write_text(GOOD)
    git(repo, "add", "b.sh")
    (repo / "b.sh").write_text(BAD)
    r = commit(repo, env)
    assert r.returncode == 0, r.stdout + r.stderr
    runs = watchd("log", "--json").json
    assert all(x["trigger"] == "hook" for x in runs)


def test_commit_all_and_commit_paths_use_their_index(repo, watchd, env):
    prepare(repo, watchd)
    (repo / "c.sh").write_text(GOOD)
    git(repo, "add", "c.sh")
    assert commit(repo, env).returncode == 0
    (repo / "c.sh").write_text(BAD)           # tracked, modified, not added
    r = commit(repo, env, "-a")               # GIT_INDEX_FILE=.git/index.lock
    assert r.returncode != 0 and "SC2086" in r.stdout + r.stderr
    r = commit(repo, env, "c.sh")             # GIT_INDEX_FILE=next-index-*.lock
    assert r.returncode != 0
    (repo / "c.sh").write_text('#!/bin/sh\necho "$2"\n')
    r = commit(repo, env, "-a")
    assert r.returncode == 0, r.stdout + r.stderr


def test_hook_reuses_the_daemons_results(repo, watchd, env):
    prepare(repo, watchd)
    assert watchd("start").rc == 0
    (repo / "d.sh").write_text(BAD)
    assert watchd("status", "--sync", "--json").rc == 1  # d.sh fails its gate
    git(repo, "add", "d.sh")
    r = watchd("check", "--staged", "--json")
    assert r.rc == 1
    gate = r.json["gates"][0]
    assert gate["cached"] is True and gate["status"] == "fail"
    assert r.json["trigger"] == "hook"


def test_nothing_staged_passes(repo, watchd):
    prepare(repo, watchd)
    r = watchd("check", "--staged")
    assert r.rc == 0
    assert watchd("check").rc == 2  # the mode is required


def test_a_passing_hook_says_so_in_one_line(repo, watchd, env):
    import re
    prepare(repo, watchd)
    (repo / "e.sh").write_text(GOOD)
    (repo / "f.sh").write_text(GOOD)
    assert watchd("run", "e.sh").rc == 0       # e.sh judged already
    git(repo, "add", "e.sh", "f.sh")
    r = commit(repo, env)
    assert r.returncode == 0, r.stdout + r.stderr
    # a run over a second also tells each finished gate on stderr
    lines = [ln for ln in (r.stdout + r.stderr).splitlines()
             if ln.startswith("watchd:") and not ln.startswith("watchd: gate ")]
    assert len(lines) == 1, r.stdout + r.stderr
    assert re.fullmatch(r"watchd: 1 gate passed on 2 staged files \(1 from cache\) in \d+ ms",
                        lines[0]), lines[0]
    # straight from watchd: on stdout, and nothing else there
    (repo / "g.sh").write_text(GOOD)
    git(repo, "add", "g.sh")
    r = watchd("check", "--staged")
    assert r.rc == 0
    assert re.fullmatch(r"watchd: 1 gate passed on 1 staged file \(0 from cache\) in \d+ ms\n",
                        r.stdout), r.stdout
    r = watchd("check", "--staged")
    assert re.fullmatch(r"watchd: 1 gate passed on 1 staged file \(1 from cache\) in \d+ ms\n",
                        r.stdout), r.stdout
