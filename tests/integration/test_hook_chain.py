"""`hook install --force` chains the hook it replaces: the earlier hook is
kept as NAME.local in the hooks directory, runs first with git's arguments,
stdin and environment, blocks the commit when it fails, and `hook uninstall`
puts it back byte for byte with its mode. Hooks go where git looks for them
(core.hooksPath, linked worktrees). All through real `git commit`s."""
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import commit_all, git, requires, write_config

pytestmark = requires("log")

OLD_HOOK = """#!/bin/sh
# the user's own hook, with an odd byte or two: \t tab, "quotes", $HOME
log="$(git rev-parse --show-toplevel)/hook.log"
{
  echo "old argc=$# args=[$*]"
  echo "old env MARK=$WATCHD_CHAIN_MARK index=${GIT_INDEX_FILE:+set}"
  echo "old stdin=[$(cat)]"
} >> "$log"
exit "${OLD_HOOK_EXIT:-0}"
"""


def gate_logging(repo):
    """A gate that notes in hook.log that watchd judged the commit."""
    log = repo / "hook.log"
    return {"name": "note", "type": "command", "include": ["**/*.txt"],
            "command": ["sh", "-c", f"echo gate >> '{log}'", "sh", "{files}"],
            "parser": "exit"}


def commit(repo, env, *args, extra=None):
    e = dict(env)
    e.update(extra or {})
    return subprocess.run(["git", "-C", str(repo), "commit", "-q", *args],
                          env=e, capture_output=True, text=True)


def hooks_dir(repo):
    d = git(repo, "rev-parse", "--git-path", "hooks").strip()
    return Path(d) if os.path.isabs(d) else repo / d


def install_over_old(repo, watchd, mode=0o750):
    write_config(repo, [gate_logging(repo)])
    (repo / ".gitignore").write_text("hook.log\n.watchd/\n")
    commit_all(repo)
    hooks = hooks_dir(repo)
    hooks.mkdir(parents=True, exist_ok=True)
    old = hooks / "pre-commit"
    old.write_text(OLD_HOOK)
    old.chmod(mode)
    r = watchd("hook", "install")
    assert r.rc == 2 and "--force" in r.stderr, str(r)
    assert old.read_text() == OLD_HOOK            # refused: left alone
    r = watchd("hook", "install", "--force")
    assert r.rc == 0, str(r)
    assert "pre-commit.local" in r.stdout
    return hooks


def test_force_chains_the_old_hook_first_with_env(repo, watchd, env):
    hooks = install_over_old(repo, watchd)
    local = hooks / "pre-commit.local"
    assert local.read_text() == OLD_HOOK
    assert stat.S_IMODE(local.stat().st_mode) == 0o750
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "feat: a", extra={"WATCHD_CHAIN_MARK": "m-42"})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = (repo / "hook.log").read_text().splitlines()
    # git gives pre-commit no arguments and no stdin: the old hook sees the same
    assert lines == ["old argc=0 args=[]", "old env MARK=m-42 index=set",
                     "old stdin=[]", "gate"], lines
    assert git(repo, "log", "-1", "--format=%s").strip() == "feat: a"


def test_chained_hook_gets_arguments_and_stdin_verbatim(repo, watchd, env):
    """git hands other hooks arguments and stdin; the wrapper passes on
    exactly what it got (here called the way git calls a hook)."""
    hooks = install_over_old(repo, watchd)
    e = dict(env, WATCHD_CHAIN_MARK="direct")
    p = subprocess.run([str(hooks / "pre-commit"), "one", "two words", ""],
                       input="line 1\nline 2\n", cwd=repo, env=e,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = (repo / "hook.log").read_text().splitlines()
    assert lines[0] == "old argc=3 args=[one two words ]"
    assert lines[1].startswith("old env MARK=direct")
    assert lines[2] == "old stdin=[line 1"
    assert lines[3] == "line 2]"


def test_old_hook_failure_blocks_the_commit(repo, watchd, env):
    install_over_old(repo, watchd)
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    head = git(repo, "rev-parse", "HEAD")
    r = commit(repo, env, "-m", "c", extra={"OLD_HOOK_EXIT": "3"})
    assert r.returncode != 0
    assert git(repo, "rev-parse", "HEAD") == head
    # watchd never ran: the old hook decided
    assert "gate" not in (repo / "hook.log").read_text().split()
    r = commit(repo, env, "-m", "c")
    assert r.returncode == 0, r.stdout + r.stderr


def test_non_executable_old_hook_is_skipped_as_git_would(repo, watchd, env):
    install_over_old(repo, watchd, mode=0o644)
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "c", extra={"OLD_HOOK_EXIT": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert (repo / "hook.log").read_text().split() == ["gate"]


def test_uninstall_restores_content_and_mode(repo, watchd):
    hooks = install_over_old(repo, watchd, mode=0o700)
    assert watchd("hook", "install", "--force").rc == 0      # ours: idempotent
    assert (hooks / "pre-commit.local").read_text() == OLD_HOOK
    r = watchd("hook", "uninstall")
    assert r.rc == 0 and "restored" in r.stdout, str(r)
    old = hooks / "pre-commit"
    assert old.read_bytes() == OLD_HOOK.encode()
    assert stat.S_IMODE(old.stat().st_mode) == 0o700
    assert not (hooks / "pre-commit.local").exists()
    assert sorted(p.name for p in hooks.iterdir() if not p.name.endswith(".sample")) \
        == ["pre-commit"]


def test_force_never_overwrites_a_kept_hook(repo, watchd):
    hooks = install_over_old(repo, watchd)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho newer\n")  # someone replaced ours
    r = watchd("hook", "install", "--force")
    assert r.rc == 2 and "pre-commit.local" in r.stderr
    assert (hooks / "pre-commit.local").read_text() == OLD_HOOK
    assert (hooks / "pre-commit").read_text() == "#!/bin/sh\necho newer\n"


def test_core_hooks_path_is_respected(repo, watchd, env):
    git(repo, "config", "core.hooksPath", ".githooks")
    hooks = install_over_old(repo, watchd)
    assert hooks == repo / ".githooks"
    assert (repo / ".githooks" / "pre-commit.local").exists()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "c", extra={"OLD_HOOK_EXIT": "1"})
    assert r.returncode != 0
    r = commit(repo, env, "-m", "c")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (repo / "hook.log").read_text().split()[-1] == "gate"


def test_linked_worktree_uses_the_shared_hooks(repo, watchd, env, tmp_path):
    write_config(repo, [gate_logging(repo)])
    commit_all(repo)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(wt))
    r = watchd("--root", str(wt), "hook", "install")
    assert r.rc == 0, str(r)
    shared = git(wt, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip()
    assert str(shared) in r.stdout
    assert (repo / ".git" / "hooks" / "pre-commit").exists()
    assert watchd("--root", str(wt), "hook", "uninstall").rc == 0
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


PRE_COMMIT_CONFIG = """repos:
- repo: local
  hooks:
  - id: verdict
    name: verdict
    language: system
    entry: sh -c 'echo pre-commit-framework >> hook.log; exit "${PC_EXIT:-0}"' sh
    pass_filenames: false
    always_run: true
"""


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit not installed")
def test_chains_a_pre_commit_framework_hook(repo, watchd, env, tmp_path):
    e = dict(env, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    write_config(repo, [gate_logging(repo)])
    (repo / ".gitignore").write_text("hook.log\n.watchd/\n")
    (repo / ".pre-commit-config.yaml").write_text(PRE_COMMIT_CONFIG)
    commit_all(repo)
    p = subprocess.run(["pre-commit", "install"], cwd=repo, env=e,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    hook = repo / ".git" / "hooks" / "pre-commit"
    theirs, their_mode = hook.read_bytes(), stat.S_IMODE(hook.stat().st_mode)
    assert watchd("hook", "install", "--force").rc == 0
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    r = commit(repo, e, "-m", "c", extra={"PC_EXIT": "1"})
    assert r.returncode != 0, "the framework's failing hook must block the commit"
    assert "verdict" in r.stdout + r.stderr and "Failed" in r.stdout + r.stderr
    assert (repo / "hook.log").read_text().split() == ["pre-commit-framework"]
    r = commit(repo, e, "-m", "c")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (repo / "hook.log").read_text().split() == \
        ["pre-commit-framework", "pre-commit-framework", "gate"]
    assert watchd("hook", "uninstall").rc == 0
    assert hook.read_bytes() == theirs
    assert stat.S_IMODE(hook.stat().st_mode) == their_mode
    p = subprocess.run(["pre-commit", "uninstall"], cwd=repo, env=e,
                       capture_output=True, text=True)
    assert p.returncode == 0 and not hook.exists(), p.stdout + p.stderr


PRE_COMMIT_MSG_CONFIG = """repos:
- repo: local
  hooks:
  - id: signed
    name: signed
    language: system
    entry: sh signed.sh
    stages: [commit-msg]
"""


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pre-commit not installed")
def test_chains_a_pre_commit_framework_commit_msg_hook(repo, watchd, env, tmp_path):
    """pre-commit's commit-msg hook gets the message file from the wrapper,
    and both it and watchd's commit-msg gate must pass."""
    e = dict(env, PRE_COMMIT_HOME=str(tmp_path / "pc-home"))
    write_config(repo, [{"name": "msg", "type": "commit-msg"}])
    (repo / ".gitignore").write_text("hook.log\n.watchd/\n")
    (repo / ".pre-commit-config.yaml").write_text(PRE_COMMIT_MSG_CONFIG)
    (repo / "signed.sh").write_text('echo "framework $1" >> hook.log\n'
                                    'grep -q "^Signed-off-by: " "$1"\n')
    commit_all(repo, "chore: setup")
    p = subprocess.run(["pre-commit", "install", "--hook-type", "commit-msg"], cwd=repo,
                       env=e, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    hook = repo / ".git" / "hooks" / "commit-msg"
    theirs = hook.read_bytes()
    r = watchd("hook", "install", "--force")
    assert r.rc == 0, str(r)
    assert (repo / ".git" / "hooks" / "commit-msg.local").read_bytes() == theirs
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    r = commit(repo, e, "-m", "feat: unsigned")            # the framework says no
    assert r.returncode != 0 and "signed" in r.stdout + r.stderr
    assert (repo / "hook.log").read_text() == "framework .git/COMMIT_EDITMSG\n"
    r = commit(repo, e, "-s", "-m", "not conventional")     # watchd says no
    assert r.returncode != 0 and "CC1" in r.stdout + r.stderr
    r = commit(repo, e, "-s", "-m", "feat: signed")
    assert r.returncode == 0, r.stdout + r.stderr
    assert watchd("hook", "uninstall").rc == 0
    assert hook.read_bytes() == theirs


def test_nested_core_hooks_path_is_created(repo, watchd):
    git(repo, "config", "core.hooksPath", "tools/git/hooks")
    r = watchd("hook", "install")
    assert r.rc == 0, str(r)
    assert (repo / "tools" / "git" / "hooks" / "pre-commit").exists()
