"""`watchd start --foreground`: each finished run on stdout as a person reads
it (a summary line, then its findings as `path:line:col: CODE message [gate]`,
grouped by file and capped), log lines on stderr, and one line when a run
fixes the last failure."""
import re
import subprocess

import pytest

from conftest import WATCHD, ULID_RE, run_watchd, sanitizer_report, wait_until, write_config

RUN_LINE = re.compile(r"^run ([0-9A-HJKMNP-TV-Z]{26}) (pass|fail|error|interrupted)\b")


class Foreground:
    """The daemon in front: stdout and stderr go to files outside ROOT (a
    file the daemon holds open inside ROOT would be a writer it waits for)."""

    def __init__(self, repo, env, tmp_path):
        self.repo, self.env = repo, env
        self.out_path, self.err_path = tmp_path / "fg.out", tmp_path / "fg.err"
        self.proc = None

    def start(self):
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([str(WATCHD), "start", "--foreground"], cwd=self.repo,
                                         env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited: {self.err()}")
            return self.watchd("status", "--json").rc in (0, 1)
        wait_until(up, timeout=30, what="the foreground daemon to answer")

    def watchd(self, *args, timeout=60):
        return run_watchd(args, self.repo, self.env, timeout=timeout)

    def sync(self):
        r = self.watchd("status", "--sync", "--json")
        assert r.rc in (0, 1), str(r)
        return r.json

    def out(self):
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def err(self):
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def runs(self):
        """stdout cut into runs: [(id, status, [lines])]."""
        runs = []
        for line in self.out().splitlines():
            m = RUN_LINE.match(line)
            if m:
                runs.append((m.group(1), m.group(2), [line]))
            else:
                assert runs, f"stdout starts with a line that is not a run's: {line!r}"
                runs[-1][2].append(line)
        return runs

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.watchd("stop", timeout=30)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rep = sanitizer_report(self.err())
        assert rep is None, rep


@pytest.fixture
def fg(repo, env, tmp_path):
    # bad-words (tests/tools): each line holding BAD is a finding, printed
    # last first, so that grouping and sorting are watchd's doing
    write_config(repo, [{"name": "lint", "type": "command", "include": ["**/*.txt"],
                         "command": ["bad-words", "{files}"], "parser": "gcc"}],
                 debounce_ms=50, stability_ms=20)
    f = Foreground(repo, env, tmp_path)
    f.start()
    yield f
    f.stop()


def test_findings_on_stdout_grouped_by_file_and_logs_on_stderr(fg, repo):
    (repo / "b.txt").write_text("ok\nBAD\n")
    (repo / "a.txt").write_text("BAD one\nfine\n  BAD two\n")
    fg.sync()
    runs = fg.runs()
    assert len(runs) >= 1, fg.out()
    expected = [
        "a.txt:1:1: X001 bad word here [lint]",
        "a.txt:3:3: X003 bad word here [lint]",
        "b.txt:2:1: X002 bad word here [lint]",
    ]
    # a and b may come in one batch or two; each run lists its findings
    # sorted by file, line and column, whatever order the tool printed
    lines = [ln for _, _, block in runs for ln in block[1:]]
    assert sorted(lines) == expected, fg.out()
    for _, _, block in runs:
        assert block[1:] == sorted(block[1:]), block
    for run_id, status, block in runs:
        assert ULID_RE.match(run_id) and status == "fail", block
        assert re.match(r"^run \S+ fail: lint fail \(\d files?, \d findings?\)$", block[0]), block
    if len(runs) == 1:
        assert runs[0][2][0].endswith(": lint fail (2 files, 3 findings)"), runs
    # stdout holds runs only; the log (timestamps, levels, functions) is on stderr
    assert "info" not in fg.out() and "sched_submit" not in fg.out()
    err = fg.err()
    assert "daemon_main: watchd" in err and "watching" in err, err
    assert re.search(r"run [0-9A-Z]{26} gate lint: fail", err), err


def test_findings_capped_with_where_to_see_the_rest(fg, repo):
    (repo / "many.txt").write_text("".join(f"BAD {i}\n" for i in range(1, 63)))
    fg.sync()
    (run_id, status, block), = fg.runs()
    assert status == "fail"
    assert block[0] == f"run {run_id} fail: lint fail (1 file, 62 findings)", block[0]
    findings = block[1:-1]
    assert len(findings) == 50, block
    assert findings[0] == "many.txt:1:1: X001 bad word here [lint]"
    assert findings[49] == "many.txt:50:1: X050 bad word here [lint]"
    assert block[-1] == f"... 12 more: watchd show {run_id}", block[-1]
    shown = fg.watchd("show", run_id, "--json")
    assert shown.rc == 0 and len(shown.json["gates"][0]["findings"]) == 62, str(shown)


def test_a_run_that_fixes_everything_says_so_in_one_line(fg, repo):
    (repo / "a.txt").write_text("BAD\nBAD\n")
    (repo / "b.txt").write_text("BAD\n")
    fg.sync()
    assert all(status == "fail" for _, status, _ in fg.runs()), fg.out()
    # fixing one file of two: the run passes and says what still fails
    (repo / "b.txt").write_text("good\n")
    fg.sync()
    run_id, status, block = fg.runs()[-1]
    assert status == "pass" and block == [
        f"run {run_id} pass: lint pass (1 file); still failing: lint fail (1 file, 2 findings)"
    ], block
    (repo / "a.txt").write_text("good\ngood\n")
    fg.sync()
    run_id, status, block = fg.runs()[-1]
    assert block == [f"run {run_id} pass: all gates pass again (fixed 2 findings)"], fg.out()
    # a passing edit after that is an ordinary one-line summary
    (repo / "a.txt").write_text("still good\n")
    fg.sync()
    run_id, status, block = fg.runs()[-1]
    assert block == [f"run {run_id} pass: lint pass (1 file)"], fg.out()
