"""What a person sees: status exit codes (0 pass, 1 a gate fails, 3 no
daemon), one-shot commands that speak without daemon log lines, findings
and the queue's reason in text status, colour only on a terminal (or when
asked), progress on stderr."""
import os

import pytest

from conftest import git, requires, wait_until, write_config

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
