"""The commit-msg gate through real `git commit`s: `hook install` adds the
commit-msg hook when the config has a "commit-msg" gate, the hook runs
`watchd check --commit-msg FILE`, bad messages are rejected with findings
naming the line and the rule, messages git writes itself (merge, revert,
fixup/squash/amend) pass, and every check is in the ledger under trigger
"commit-msg"."""
import json
import stat
import subprocess

from conftest import commit_all, git, requires, write_config

pytestmark = requires("log")

MSG_GATE = {"name": "msg", "type": "commit-msg"}


def commit(repo, env, *args, extra=None):
    e = dict(env)
    e.update(extra or {})
    return subprocess.run(["git", "-C", str(repo), "commit", "-q", *args],
                          env=e, capture_output=True, text=True)


def head_subject(repo):
    return git(repo, "log", "-1", "--format=%s").strip()


def install(repo, watchd, gates=(MSG_GATE,)):
    write_config(repo, list(gates))
    (repo / ".gitignore").write_text(".watchd/\nhook.log\n")
    commit_all(repo, "chore: config")
    r = watchd("hook", "install")
    assert r.rc == 0, str(r)
    return repo / ".git" / "hooks"


def test_hook_rejects_and_accepts_messages(repo, watchd, env):
    hooks = install(repo, watchd)
    assert (hooks / "commit-msg").exists() and (hooks / "pre-commit").exists()
    assert "check --commit-msg" in (hooks / "commit-msg").read_text()
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "Add a file\nwith a body right under")
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert ".git/COMMIT_EDITMSG:1:4: CC1 " in out, out
    assert ".git/COMMIT_EDITMSG:2:1: CC6 " in out and "[msg]" in out, out
    assert head_subject(repo) == "chore: config"
    r = commit(repo, env, "-m", "feat(files): add a file\n\nBody.\n\nRefs: #1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(repo) == "feat(files): add a file"
    runs = [x for x in watchd("log", "--json").json if x["trigger"] == "commit-msg"]
    assert [x["status"] for x in runs] == ["pass", "fail"]      # newest first
    failed = watchd("show", runs[1]["id"], "--json").json
    fs = failed["gates"][0]["findings"]
    assert [(f["line"], f["code"]) for f in fs] == [(1, "CC1"), (2, "CC6")]
    assert all(f["path"] == ".git/COMMIT_EDITMSG" for f in fs)
    assert "rule 6" in fs[1]["message"]


def test_editor_message_with_comments_and_scissors(repo, watchd, env, tmp_path):
    """`git commit -v` with an editor: comment lines and everything under
    the scissors line (the diff) are not part of the message."""
    install(repo, watchd)
    (repo / "a.txt").write_text("no: a footer\nBREAKING change: not one either\n")
    git(repo, "add", "a.txt")
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "%s\\n\\n%s\\n" "$SUBJECT" "Some body." > "$1.new"\n'
                      'cat "$1" >> "$1.new" && mv "$1.new" "$1"\n')
    editor.chmod(0o755)
    e = {"GIT_EDITOR": str(editor)}
    r = commit(repo, env, "-v", extra=dict(e, SUBJECT="nope"))
    assert r.returncode != 0 and "COMMIT_EDITMSG:1:" in r.stdout + r.stderr
    r = commit(repo, env, "-v", extra=dict(e, SUBJECT="docs: a file"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(repo, "log", "-1", "--format=%B").strip() == "docs: a file\n\nSome body."


def test_messages_git_writes_pass(repo, watchd, env, tmp_path):
    install(repo, watchd)
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "s.txt").write_text("s\n")
    git(repo, "add", "s.txt")
    assert commit(repo, env, "-m", "feat: side work").returncode == 0
    git(repo, "checkout", "-q", "main")
    (repo / "m.txt").write_text("m\n")
    git(repo, "add", "m.txt")
    assert commit(repo, env, "-m", "fix: main work").returncode == 0
    # git merge runs the commit-msg hook too
    p = subprocess.run(["git", "-C", str(repo), "merge", "--no-ff", "--no-edit", "side"],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert head_subject(repo) == "Merge branch 'side'"
    p = subprocess.run(["git", "-C", str(repo), "revert", "--no-edit", "HEAD~1"],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert head_subject(repo) == 'Revert "fix: main work"'
    (repo / "f.txt").write_text("f\n")
    git(repo, "add", "f.txt")
    r = commit(repo, env, "--fixup", "HEAD")
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(repo) == 'fixup! Revert "fix: main work"'
    (repo / "g.txt").write_text("g\n")
    git(repo, "add", "g.txt")
    r = commit(repo, env, "--squash", "HEAD~4", "-m", "more words")
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(repo).startswith("squash! ")
    r = commit(repo, env, "--fixup=reword:HEAD~1", extra={"GIT_EDITOR": "true"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(repo).startswith("amend! ")
    runs = [x for x in watchd("log", "--json", "--limit", "50").json
            if x["trigger"] == "commit-msg"]
    # git merge runs the hook; the sequencer (revert --no-edit) does not, so
    # every message in the history is also checked as it was recorded
    assert len(runs) >= 6 and all(x["status"] == "pass" for x in runs)
    msg = tmp_path / "recorded"
    for sha in git(repo, "rev-list", "HEAD", "^HEAD~6").split():  # not "initial"
        msg.write_text(git(repo, "log", "-1", "--format=%B", sha))
        r = watchd("check", "--commit-msg", str(msg))
        assert r.rc == 0, (msg.read_text(), str(r))


def test_fixup_of_a_bad_subject_is_judged_on_it(repo, watchd, env, tmp_path):
    install(repo, watchd)
    msg = tmp_path / "msg"
    msg.write_text("fixup! update things\n")
    r = watchd("check", "--commit-msg", str(msg))
    assert r.rc == 1 and ":1:14: CC1 " in r.stdout, str(r)


def test_old_commit_msg_hook_runs_first_with_the_file(repo, watchd, env):
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    old = hooks / "commit-msg"
    # the user's hook: prefixes a type when none is there, fails on "WIP"
    old_text = ('#!/bin/sh\necho "old $# $1" >> "$(git rev-parse --show-toplevel)/hook.log"\n'
                'grep -q WIP "$1" && exit 5\n'
                'sed -i "1s/^untyped /chore: /" "$1"\n')
    write_config(repo, [MSG_GATE])
    (repo / ".gitignore").write_text(".watchd/\nhook.log\n")
    commit_all(repo, "chore: config")
    old.write_text(old_text)
    old.chmod(0o700)
    r = watchd("hook", "install")
    assert r.rc == 2 and "commit-msg" in r.stderr
    r = watchd("hook", "install", "--force")
    assert r.rc == 0, str(r)
    assert (hooks / "commit-msg.local").read_text() == old_text
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "untyped tidy up")   # fixed by the old hook first
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(repo) == "chore: tidy up"
    assert (repo / "hook.log").read_text() == "old 1 .git/COMMIT_EDITMSG\n"
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    r = commit(repo, env, "-m", "feat: WIP")          # valid, but the old hook says no
    assert r.returncode == 5 or r.returncode != 0
    assert head_subject(repo) == "chore: tidy up"
    runs = [x for x in watchd("log", "--json").json if x["trigger"] == "commit-msg"]
    assert len(runs) == 1, "watchd must not run after the old hook failed"
    assert watchd("hook", "uninstall").rc == 0
    assert old.read_text() == old_text
    assert stat.S_IMODE(old.stat().st_mode) == 0o700
    assert not (hooks / "commit-msg.local").exists()
    assert not (hooks / "pre-commit").exists()


def test_commit_msg_hook_follows_the_config(repo, watchd):
    hooks = install(repo, watchd, gates=[])
    assert (hooks / "pre-commit").exists() and not (hooks / "commit-msg").exists()
    write_config(repo, [MSG_GATE])
    assert watchd("hook", "install").rc == 0
    assert (hooks / "commit-msg").exists()
    write_config(repo, [])
    r = watchd("hook", "install")
    assert r.rc == 0 and not (hooks / "commit-msg").exists(), str(r)
    write_config(repo, [{"name": "msg", "type": "commit-msg", "types": "feat"}])
    r = watchd("hook", "install")
    assert r.rc == 2 and "gates[0].types" in r.stderr


def test_check_commit_msg_cli(repo, watchd, tmp_path):
    write_config(repo, [
        {"name": "msg", "type": "commit-msg", "types": ["feat", "fix"],
         "scopes": ["core"], "max_subject": 30},
        {"name": "sh", "type": "command", "include": ["**/*.sh"], "command": ["false"]},
    ])
    (repo / "x.sh").write_text("echo\n")
    msg = tmp_path / "MSG"
    msg.write_text("chore(web): a subject well over thirty characters\n\n"
                   "# Please enter the commit message\n")
    r = watchd("check", "--commit-msg", str(msg), "--json")
    assert r.rc == 1, str(r)
    assert r.json["trigger"] == "commit-msg" and r.json["status"] == "fail"
    assert [g["name"] for g in r.json["gates"]] == ["msg"]     # file gates do not run
    codes = [(f["line"], f["col"], f["code"]) for f in r.json["gates"][0]["findings"]]
    assert codes == [(1, 1, "CC-types"), (1, 7, "CC-scopes"), (1, 31, "CC-max-subject")]
    assert r.json["gates"][0]["findings"][0]["path"] == str(msg)   # outside ROOT: as given
    msg.write_text("fix(core): short\n")
    r = watchd("check", "--commit-msg", str(msg))
    assert r.rc == 0 and "passed" in r.stdout, str(r)
    r = watchd("check", "--commit-msg", str(tmp_path / "missing"))
    assert r.rc == 2
    r = watchd("check", "--commit-msg", str(msg), "--staged")
    assert r.rc == 2
    msg.write_text("bad\n")
    r = watchd("check", "--commit-msg", str(msg), "--json", env_extra={"WATCHD_SKIP": "msg"})
    assert r.rc == 0 and r.json["gates"][0]["status"] == "skipped", str(r)
    # the file gates are untouched by any of this
    st = watchd("status", "--json")
    assert all(g["name"] != "msg" or g["status"] != "fail" for g in (st.json or {}).get("gates", []))


def test_without_a_commit_msg_gate_the_message_passes(repo, watchd, tmp_path):
    write_config(repo, [])
    msg = tmp_path / "MSG"
    msg.write_text("anything\n")
    r = watchd("check", "--commit-msg", str(msg))
    assert r.rc == 0 and "no commit-msg gate" in r.stderr


def test_linked_worktree_commit_uses_the_shared_hook(repo, watchd, env, tmp_path):
    install(repo, watchd)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "side", str(wt))
    (wt / "w.txt").write_text("w\n")
    git(wt, "add", "w.txt")
    r = commit(wt, env, "-m", "no type here")
    assert r.returncode != 0 and "COMMIT_EDITMSG:1:3: CC1 " in r.stdout + r.stderr, \
        r.stdout + r.stderr
    r = commit(wt, env, "-m", "test: from the worktree")
    assert r.returncode == 0, r.stdout + r.stderr
    assert head_subject(wt) == "test: from the worktree"


def test_hooks_keep_a_config_named_at_install(repo, watchd, env, tmp_path):
    cfg = tmp_path / "elsewhere.json"
    cfg.write_text(json.dumps({"version": 1, "gates": [MSG_GATE]}))
    (repo / ".gitignore").write_text(".watchd/\n")
    commit_all(repo, "chore: ignore")
    r = watchd("--config", str(cfg), "hook", "install")
    assert r.rc == 0, str(r)
    assert (repo / ".git" / "hooks" / "commit-msg").exists()
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    r = commit(repo, env, "-m", "not conventional")
    assert r.returncode != 0 and "CC1" in r.stdout + r.stderr, r.stdout + r.stderr
    assert commit(repo, env, "-m", "feat: ok").returncode == 0
