"""Tools that misbehave: hang, crash, are missing, print garbage or flood
stdout. Each becomes a gate status, never a stuck or crashed watchd."""
import json
import os
import shutil
import subprocess
import textwrap
import threading

import pytest

from conftest import (TOOLS_DIR, WATCHD, needs_watchd, pid_alive, sanitizer_report, wait_until,
                      write_config)

pytestmark = needs_watchd


def tool_script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def one_gate(r, name="bad"):
    assert isinstance(r.json, dict), str(r)
    [g] = [g for g in r.json["gates"] if g["name"] == name]
    return g


def test_timeout_kills_the_whole_process_group(repo, watchd, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    tool = tool_script(tmp_path, "hang.py", f"""\
        import subprocess, time
        child = subprocess.Popen(["sleep", "3600"])
        with open({str(pidfile)!r}, "w") as f:
            f.write(str(child.pid))
        while True:
            time.sleep(60)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "timeout_s": 1}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json", timeout=60)
    g = one_gate(r)
    assert g["status"] == "timeout", g
    assert r.json["status"] in ("error", "fail")
    assert r.rc in (1, 4)
    assert pidfile.exists(), "the tool never started its grandchild"
    grandchild = int(pidfile.read_text())
    wait_until(lambda: not pid_alive(grandchild), timeout=10,
               what=f"grandchild sleep (pid {grandchild}) to be killed with its group")


def test_tool_killed_by_sigsegv_is_an_error(repo, watchd, tmp_path):
    tool = tool_script(tmp_path, "crash.py", """\
        import os, signal
        os.kill(os.getpid(), signal.SIGSEGV)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"]}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json")
    g = one_gate(r)
    assert g["status"] == "error", g
    assert "SEGV" in json.dumps(g) or "signal 11" in json.dumps(g)
    assert r.json["status"] == "error"
    assert r.rc == 4


def test_missing_tool(repo, watchd):
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["no-such-tool-xyz", "{files}"]}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json")
    g = one_gate(r)
    assert g["status"] == "missing", g
    assert "no-such-tool-xyz" in json.dumps(g)  # the message names the program
    assert r.rc == 4, str(r)
    text = watchd("run", "--no-cache")
    assert text.rc == 4
    assert "no-such-tool-xyz" in text.stdout + text.stderr


def test_missing_tool_does_not_stop_other_gates(repo, watchd):
    write_config(repo, [
        {"name": "bad", "type": "command", "include": ["*.txt"],
         "command": ["no-such-tool-xyz", "{files}"]},
        {"name": "good", "type": "command", "include": ["*.txt"],
         "command": ["/usr/bin/true", "{files}"]},
    ])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json")
    assert one_gate(r, "bad")["status"] == "missing"
    assert one_gate(r, "good")["status"] == "pass"


def test_garbage_with_the_sarif_parser_is_an_error(repo, watchd, tmp_path):
    tool = tool_script(tmp_path, "garbage.py", """\
        import sys
        sys.stdout.write("this is { not SARIF at all\\n")
        sys.exit(1)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "parser": "sarif"}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json")
    g = one_gate(r)
    assert g["status"] == "error", g
    assert "SARIF" in json.dumps(g)
    assert r.rc == 4


def test_json_that_is_not_sarif_is_an_error(repo, watchd, tmp_path):
    tool = tool_script(tmp_path, "notsarif.py", """\
        print('{"results": []}')
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "parser": "sarif"}])
    (repo / "a.txt").write_text("x\n")
    assert one_gate(watchd("run", "--json"))["status"] == "error"


def test_junit_parser_without_a_report_is_an_error(repo, watchd):
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/true", "{report}", "{files}"],
                         "parser": "junit"}])
    (repo / "a.txt").write_text("x\n")
    assert one_gate(watchd("run", "--json"))["status"] == "error"


def test_flood_of_output_is_truncated(repo, env, tmp_path):
    tool = tool_script(tmp_path, "flood.py", """\
        import sys
        line = b"x" * 1023 + b"\\n"
        out = sys.stdout.buffer
        for _ in range(100 * 1024):  # 100 MiB
            out.write(line)
        out.flush()
        sys.exit(1)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "timeout_s": 120}])
    (repo / "a.txt").write_text("x\n")
    # run it by hand: wait4() gives the peak RSS of watchd and what it waited for
    out, err = tmp_path / "out.json", tmp_path / "err.txt"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        p = subprocess.Popen([str(WATCHD), "run", "--json"], cwd=repo, env=env,
                             stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
    watchdog = threading.Timer(180, p.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        watchdog.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    peak_mib = usage.ru_maxrss // 1024
    assert sanitizer_report(err.read_text(errors="replace")) is None
    assert p.returncode == 1, f"rc {p.returncode} (killed after 180 s if -9): {err.read_text()}"
    assert out.stat().st_size < 1024 * 1024, "the run's JSON carries far too much tool output"
    run = json.loads(out.read_text())
    [g] = run["gates"]
    assert g["status"] == "fail", g
    assert g["exit_code"] == 1
    assert "truncated" in g.get("output", "") or "cut off" in json.dumps(g)
    assert peak_mib < 64, f"peak RSS {peak_mib} MiB while the tool printed 100 MiB"


RUFF_READY = (TOOLS_DIR / "node_modules" / "@astral-sh" / "ruff-wasm-nodejs").exists() \
    and shutil.which("node") is not None


@pytest.mark.skipif(not RUFF_READY, reason="ruff stand-in not installed")
def test_output_over_a_mebibyte_is_parsed_whole(repo, watchd):
    """200 files x 10 unused imports: ~1.5 MB of ruff JSON, more than the
    in-memory excerpt; the parser still reads all of it."""
    mods = ["os", "sys", "re", "json", "math", "time", "abc", "csv", "glob", "uuid"]
    (repo / "pkg").mkdir()
    for i in range(200):
        (repo / "pkg" / f"m{i:03d}.py").write_text("".join(f"import {m}\n" for m in mods))
    write_config(repo, [{"name": "ruff", "type": "ruff", "include": ["**/*.py"],
                         "args": ["--select", "F401"], "timeout_s": 300}])
    r = watchd("run", "--json", timeout=300)
    assert r.rc == 1, str(r)[:3000]
    g = one_gate(r, "ruff")
    assert g["status"] == "fail", {k: g[k] for k in g if k != "findings"}
    assert len(g["findings"]) == 2000
    assert {f["code"] for f in g["findings"]} == {"F401"}
    assert len({f["path"] for f in g["findings"]}) == 200
    assert len(json.dumps(g.get("output", ""))) < 64 * 1024  # the ledger keeps an excerpt


def test_stdout_beyond_the_parse_limit_is_an_error(repo, watchd, tmp_path):
    """A parser that needs stdout cannot judge a stream cut at the parse limit."""
    tool = tool_script(tmp_path, "spew.py", """\
        import sys
        out = sys.stdout.buffer
        line = b"a.txt:1:1: warning: noise [X1]\\n" + b" " * 990 + b"\\n"
        for _ in range(70 * 1024):  # ~70 MiB, past the 64 MiB watchd parses
            out.write(line)
        sys.exit(1)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "parser": "gcc",
                         "timeout_s": 120}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json", timeout=180)
    g = one_gate(r)
    assert g["status"] == "error", {k: g[k] for k in g if k != "findings"}
    assert "64 MiB" in g["message"] and "stdout" in g["message"]
    assert r.rc == 4


def test_report_beyond_the_limit_is_an_error(repo, watchd, tmp_path):
    # a sparse 65 MiB JUnit report: never read in part
    tool = tool_script(tmp_path, "bigreport.py", """\
        import sys
        with open(sys.argv[1], "wb") as f:
            f.write(b"<testsuite>")
            f.truncate(65 << 20)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": ["/usr/bin/python3", tool, "{report}"], "parser": "junit"}])
    (repo / "a.txt").write_text("x\n")
    r = watchd("run", "--json", timeout=60)
    g = one_gate(r)
    assert g["status"] == "error", g
    assert "larger than 64 MiB" in g.get("message", ""), g


def test_closed_stdio_never_reaches_a_tool(repo, env, tmp_path):
    # watchd started with stdin and stderr closed (a hook run with <&- 2>&-):
    # the tool still gets /dev/null as stdin, and pipes for its output
    tool = tool_script(tmp_path, "stdio.sh", """\
        #!/bin/sh
        test -p /dev/stdout || { echo "stdout is not a pipe"; exit 3; }
        test -p /dev/stderr || { echo "stderr is not a pipe"; exit 3; }
        if read -r line; then echo "stdin gave: $line"; exit 3; fi
        echo "stdio as expected"
        """)
    os.chmod(tool, 0o755)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.txt"],
                         "command": [tool, "{files}"]}])
    (repo / "a.txt").write_text("x\n")

    def close_stdio():
        os.close(0)
        os.close(2)

    p = subprocess.run([str(WATCHD), "run", "--json"], cwd=repo, env=env, timeout=60,
                       stdout=subprocess.PIPE, preexec_fn=close_stdio)
    run = json.loads(p.stdout)
    [g] = run["gates"]
    assert p.returncode == 0 and g["status"] == "pass", g


CRASH_AFTER_FIRST = """\
    import sys
    files = [a for a in sys.argv[1:] if a != "--"]
    # a finding for the first file, then the tool dies before the rest
    print(f"{files[0]}:1:1: warning: first file only [SC0001]", flush=True)
    print("shellcheck: hPutChar: invalid argument", file=sys.stderr)
    sys.exit(3)
    """


def test_crashed_tool_never_plants_a_cached_pass(repo, watchd, tmp_path):
    """Issue 16, point 4: a tool that judged the first file, crashed and
    exited 3 vouched for none of the others."""
    tool = tool_script(tmp_path, "crashy.py", CRASH_AFTER_FIRST)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.sh"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "parser": "gcc"}])
    for name in ("a.sh", "b.sh", "c.sh"):
        (repo / name).write_text("echo hi\n")
    r = watchd("run", "--json")
    g = one_gate(r)
    assert g["status"] == "error", g
    assert r.json["status"] == "error"
    # each file was re-judged in a process of its own; none passed
    for f in g.get("files", []):
        if isinstance(f, dict):
            assert f.get("status") != "pass", g
    again = watchd("run", "c.sh")
    assert "pass (cached)" not in again.stdout + again.stderr, str(again)
    assert again.rc != 0, str(again)
    again = watchd("run", "--json", "c.sh")
    g = one_gate(again)
    assert g["status"] == "error" and not g["cached"], g


def test_crash_in_one_file_leaves_the_others_judged(repo, watchd, tmp_path):
    """The halving search finds the file the tool dies on; the rest get
    their own verdicts (and are cached), the culprit is an error."""
    tool = tool_script(tmp_path, "dies_on_bad.py", """\
        import sys
        files = [a for a in sys.argv[1:] if a != "--"]
        for f in files:
            if "bad" in f:
                print("hPutChar: invalid argument", file=sys.stderr)
                sys.exit(1)
            if "warn" in f:
                print(f"{f}:1:1: warning: w [SC0002]", flush=True)
        sys.exit(1 if any("warn" in f for f in files) else 0)
        """)
    write_config(repo, [{"name": "bad", "type": "command", "include": ["*.sh"],
                         "command": ["/usr/bin/python3", tool, "{files}"], "parser": "gcc"}])
    for name in ("a.sh", "bad.sh", "c.sh", "warn.sh"):
        (repo / name).write_text("echo hi\n")
    r = watchd("run", "--json")
    g = one_gate(r)
    assert g["status"] == "error", g
    assert [f["path"] for f in g["findings"] if f.get("code") == "SC0002"] == ["warn.sh"], g
    r = watchd("run", "--json", "c.sh")
    g = one_gate(r)
    assert g["status"] == "pass" and g["cached"], g
    r = watchd("run", "--json", "bad.sh")
    g = one_gate(r)
    assert g["status"] == "error" and not g["cached"], g
