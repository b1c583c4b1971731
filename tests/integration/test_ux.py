"""What a person sees: status exit codes (0 pass, 1 a gate fails, 3 no
daemon), one-shot commands that speak without daemon log lines, findings
and the queue's reason in text status, colour only on a terminal (or when
asked), progress on stderr."""
import os
import pty
import subprocess

import pytest

from conftest import WATCHD, git, requires, wait_until, write_config

pytestmark = requires("start", "status", "run")

LINT = {"name": "lint", "type": "command", "include": ["**/*.txt"],
        "command": ["bad-words", "{files}"], "parser": "gcc"}


@pytest.fixture
def daemon_config():
    return {"gates": [LINT], "debounce_ms": 50, "stability_ms": 20}


@pytest.mark.parametrize("sync", [False, True])
@pytest.mark.parametrize("json_mode", [False, True])
def test_status_exit_codes(daemon, watchd, repo, sync, json_mode):
    args = ["status"] + (["--sync"] if sync else []) + (["--json"] if json_mode else [])
    (repo / "a.txt").write_text("fine\n")
    assert watchd("status", "--sync").rc == 0
    assert watchd(*args).rc == 0
    (repo / "a.txt").write_text("a BAD line\n")
    assert watchd("status", "--sync").rc == 1
    r = watchd(*args)
    assert r.rc == 1, str(r)
    (repo / "a.txt").write_text("fine again\n")
    assert watchd("status", "--sync").rc == 0
    assert watchd(*args).rc == 0
    assert watchd("stop").rc == 0
    r = watchd(*args)
    assert r.rc == 3, str(r)


MISSING = {"name": "gone", "type": "command", "include": ["**/*.txt"],
           "command": ["no-such-tool-here", "{files}"], "parser": "gcc"}
HINT = 'install it, or fix "command" in the gate'


@pytest.mark.parametrize("cmd", [["run"], ["check", "--staged"], ["ci"]])
def test_one_shot_missing_tool_said_once_without_log_lines(repo, watchd, cmd):
    write_config(repo, [MISSING])
    for n in range(3):  # several files, one chunk each would be several warnings
        (repo / f"f{n}.txt").write_text("x\n")
    git(repo, "add", "-A")
    r = watchd(*cmd)
    assert r.rc == 4, str(r)
    both = r.stdout + r.stderr
    assert both.count("no-such-tool-here") == 1, str(r)
    assert both.count(HINT) == 1, str(r)
    assert " warn " not in r.stderr and "start_chunk" not in r.stderr, str(r)


def test_status_text_shows_findings_capped(daemon, watchd, repo):
    for n in range(30):
        (repo / f"f{n:02d}.txt").write_text("BAD\n")
    assert watchd("status", "--sync").rc == 1
    r = watchd("status")
    assert r.rc == 1, str(r)
    lines = [ln.strip() for ln in r.stdout.splitlines()]
    shown = [ln for ln in lines if ln.endswith("bad word here")]
    assert len(shown) == 20, r.stdout
    assert shown[0] == "f00.txt:1:1: X001 bad word here", r.stdout
    run_id = watchd("status", "--json").json["gates"][0]["findings_run"]
    assert f"... 10 more: watchd show {run_id}" in lines, r.stdout
    # the same from the ledger once no daemon runs
    assert watchd("stop").rc == 0
    r = watchd("status")
    assert r.rc == 3 and "f00.txt:1:1: X001 bad word here" in r.stdout, str(r)


def test_status_says_the_queue_waits_for_git(daemon, watchd, repo):
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    (repo / "a.txt").write_text("a BAD line\n")
    r = wait_until(lambda: (lambda r: r if "git operation is in progress" in r.stdout
                            else None)(watchd("status")), what="status to name the git operation")
    assert "pending file" in r.stdout
    js = watchd("status", "--json").json
    assert js["watch"]["git_busy"] is True and js["queue"]["open_writers"] == 0
    assert js["watch"]["rescan_due"] is False
    lock.unlink()
    assert watchd("status", "--sync").rc == 1
    assert "git operation" not in watchd("status").stdout


def test_status_says_the_queue_waits_for_a_writer(repo, watchd):
    write_config(repo, [LINT], debounce_ms=50, stability_ms=20, writer_timeout_ms=60000)
    assert watchd("start").rc == 0
    try:
        with open(repo / "a.txt", "w") as f:
            f.write("a BAD line\n")
            f.flush()
            r = wait_until(lambda: (lambda r: r if "still open for writing" in r.stdout
                                    else None)(watchd("status")),
                           what="status to name the open writer")
            assert "waiting: 1 file(s) still open for writing" in r.stdout, r.stdout
        assert watchd("status", "--sync").rc == 1
    finally:
        watchd("stop")


def in_pty(repo, env, args, env_extra=None, stdout_tty=True, stderr_tty=True, timeout=60):
    """watchd args with stdout and/or stderr on a real pseudo-terminal (the
    others on pipes); returns (rc, what the terminal got, what the pipes got)."""
    master, slave = pty.openpty()
    e = dict(env, **(env_extra or {}))
    e["TERM"] = "xterm"
    p = subprocess.Popen([str(WATCHD), *args], cwd=repo, env=e, stdin=subprocess.DEVNULL,
                         stdout=slave if stdout_tty else subprocess.PIPE,
                         stderr=slave if stderr_tty else subprocess.PIPE)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    out, err = p.communicate(timeout=timeout)
    pipes = (out or b"") + (err or b"")
    return p.returncode, tty.decode("utf-8", "replace"), pipes.decode("utf-8", "replace")


def clean_env(env):
    return {k: v for k, v in env.items() if k not in ("NO_COLOR", "CLICOLOR_FORCE")}


RED, GREEN, DIM = "\x1b[31m", "\x1b[32m", "\x1b[2m"


@pytest.fixture
def failing_tree(repo):
    write_config(repo, [LINT])
    (repo / "bad.txt").write_text("BAD\n")
    (repo / "good.txt").write_text("fine\n")
    git(repo, "add", "-A")
    return repo


def test_colour_on_a_terminal_only(failing_tree, env):
    repo, env = failing_tree, clean_env(env)
    rc, tty, _ = in_pty(repo, env, ["run"])
    assert rc == 1 and RED in tty and DIM + "bad.txt" in tty, repr(tty)
    rc, tty, pipes = in_pty(repo, env, ["run"], stdout_tty=False, stderr_tty=False)
    assert rc == 1 and "\x1b" not in pipes and "bad.txt" in pipes, repr(pipes)
    # status and show, on a terminal and through a pipe
    for args in (["status"], ["check", "--staged"], ["ci"]):
        rc, tty, _ = in_pty(repo, env, args)
        assert rc in (1, 3) and RED in tty, (args, repr(tty))
        rc, _, pipes = in_pty(repo, env, args, stdout_tty=False, stderr_tty=False)
        assert "\x1b" not in pipes, (args, repr(pipes))


def test_colour_env_and_flag(failing_tree, env):
    repo, env = failing_tree, clean_env(env)
    _, tty, _ = in_pty(repo, env, ["run"], env_extra={"NO_COLOR": "1"})
    assert "\x1b" not in tty, repr(tty)
    _, tty, _ = in_pty(repo, env, ["run"], env_extra={"NO_COLOR": ""})  # empty: ignored
    assert RED in tty, repr(tty)
    _, _, pipes = in_pty(repo, env, ["run"], env_extra={"CLICOLOR_FORCE": "1"},
                         stdout_tty=False, stderr_tty=False)
    assert RED in pipes, repr(pipes)
    _, _, pipes = in_pty(repo, env, ["run"], env_extra={"CLICOLOR_FORCE": "0"},
                         stdout_tty=False, stderr_tty=False)
    assert "\x1b" not in pipes, repr(pipes)
    _, _, pipes = in_pty(repo, env, ["run", "--color", "always"], stdout_tty=False,
                         stderr_tty=False)
    assert RED in pipes, repr(pipes)
    _, tty, _ = in_pty(repo, env, ["run", "--color", "never"],
                       env_extra={"CLICOLOR_FORCE": "1"})
    assert "\x1b" not in tty, repr(tty)
    (repo / "bad.txt").write_text("fine now\n")
    _, _, pipes = in_pty(repo, env, ["run", "--color=always"], stdout_tty=False,
                         stderr_tty=False)
    assert GREEN in pipes and RED not in pipes, repr(pipes)
    r = in_pty(repo, env, ["run", "--color", "sometimes"], stdout_tty=False, stderr_tty=False)
    assert r[0] == 2 and "expected auto, always or never" in r[2], r


SLOW = {"name": "slow", "type": "command", "include": ["**/*.txt"],
        "command": ["sh", "-c", "sleep 1.5", "slow", "{files}"], "parser": "exit"}
QUICK = {"name": "quick", "type": "command", "include": ["**/*.txt"],
         "command": ["true", "{files}"], "parser": "exit"}


@pytest.fixture
def slow_tree(repo):
    write_config(repo, [SLOW, QUICK])
    for n in range(3):
        (repo / f"f{n}.txt").write_text("x\n")
    return repo


def test_progress_redrawn_on_a_terminal(slow_tree, env):
    rc, tty, pipes = in_pty(slow_tree, clean_env(env), ["run", "--no-cache"],
                            stdout_tty=False, stderr_tty=True)
    assert rc == 0, (tty, pipes)
    assert "watchd: slow 0/3 files, 1." in tty, repr(tty)
    assert "\x1b[1A\x1b[2K" in tty, repr(tty)  # redrawn, and erased at the end
    # whatever was drawn is erased: the last thing on the terminal is an erase
    assert tty.rstrip("\r\n").endswith("\x1b[2K"), repr(tty[-200:])
    assert "run " in pipes and "\x1b" not in pipes


def test_progress_without_a_terminal_is_one_line_per_gate(slow_tree, watchd):
    r = watchd("run", "--no-cache")
    assert r.rc == 0, str(r)
    lines = r.stderr.splitlines()
    assert len(lines) == 2, str(r)
    assert any(ln.startswith("watchd: gate slow pass (3 files, 0 findings) in ") for ln in lines)
    assert any(ln.startswith("watchd: gate quick pass (3 files, 0 findings) in ") for ln in lines)
    assert "\x1b" not in r.stderr
    # a run under a second says nothing on stderr
    write_config(slow_tree, [QUICK])
    r = watchd("run", "--no-cache")
    assert r.rc == 0 and r.stderr == "", str(r)


@pytest.mark.parametrize("flag", [[], ["--color", "always"]])
def test_foreground_colour_only_when_asked_on_a_file(repo, env, watchd, tmp_path, flag):
    write_config(repo, [LINT], debounce_ms=50, stability_ms=20)
    out_path = tmp_path / "fg.out"
    with open(out_path, "wb") as out, open(tmp_path / "fg.err", "wb") as err:
        proc = subprocess.Popen([str(WATCHD), "start", "--foreground", *flag], cwd=repo,
                                env=clean_env(env), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err)
    try:
        wait_until(lambda: watchd("status", "--json").rc in (0, 1),
                   what="the foreground daemon to answer")
        (repo / "a.txt").write_text("BAD\n")
        assert watchd("status", "--sync").rc == 1
        text = wait_until(lambda: (lambda t: t if "a.txt" in t else None)(
            out_path.read_text(errors="replace")), what="the run on stdout")
        if flag:
            assert RED in text and DIM + "a.txt" in text, repr(text)
        else:
            assert "\x1b" not in text, repr(text)
    finally:
        watchd("stop")
        proc.wait(timeout=30)
