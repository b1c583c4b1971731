"""The team-wide remote result cache (issue 18), against a real nginx
serving Bazel's HTTP cache protocol over WebDAV `PUT` (httpcache.py).

The gate is a command gate, `words`: a Python tool outside every repository
that reports each line holding "bad" (gcc format) and appends one JSON line
per start to $WATCHD_TEST_RECORD, so a test knows exactly which files a tool
was started for, in which repository. Repository A (the origin, "CI")
writes; its fresh clones (no .watchd/, "laptops") read. The remote cache is
set through the environment (WATCHD_REMOTE_CACHE_URL, _WRITE, _TOKEN) unless
a test is about the config key. Timing figures belong to the benchmark
(scripts/bench/bench_remote.py); the one bound checked here (a slow server)
is generous.

The `test_httpcache_fixture_*` tests check the harness itself (nginx, the
slow server, the gate tool) and pass without the remote cache. Without nginx
(or with WATCHD_TEST_NGINX=none) the tests that need it skip.
"""
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import httpcache
from conftest import (commit_all, git, kill_daemon, make_repo, run_watchd, track_daemon,
                      wait_until, write_config)

needs_nginx = pytest.mark.skipif(httpcache.NGINX is None,
                                 reason="nginx is not installed (apt-get install nginx)")

WORDS_TOOL = r'''#!/usr/bin/python3
"""Test gate tool: every line holding "bad" is a finding (gcc format).
Appends {"cwd", "argv"} to $WATCHD_TEST_RECORD on every start. With
$WATCHD_TEST_KILL_PGID it first kills that process group (the cache server)
and waits until $WATCHD_TEST_KILL_PORT refuses connections."""
import json
import os
import signal
import socket
import sys
import time

log = os.environ.get("WATCHD_TEST_RECORD")
if log:
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps({"cwd": os.getcwd(), "argv": sys.argv[1:]}) + "\n")
pgid = os.environ.get("WATCHD_TEST_KILL_PGID")
if pgid:
    try:
        os.killpg(int(pgid), signal.SIGKILL)
    except ProcessLookupError:
        pass
    port = int(os.environ["WATCHD_TEST_KILL_PORT"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            break
        time.sleep(0.02)
found = 0
for path in sys.argv[1:]:
    if path == "--":
        continue
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            col = line.find("bad")
            if col >= 0:
                found += 1
                print("%s:%d:%d: error: bad word, %d letters on the line [BW%d]"
                      % (path, n, col + 1, len(line.strip()), n % 3))
sys.exit(1 if found else 0)
'''

# Each file also holds a line no finding quotes: it must never reach the
# server (only results travel, never content).
FILES = {
    "src/clean.txt": "all good here\nsecret-content-0\n",
    "src/one.txt": "a bad apple\nsecret-content-1\n",
    "src/two.txt": "fine\nbad\nvery bad again\nsecret-content-2\n",
    "docs/three.txt": "secret-content-3\n  bad indent\n",
    "notes.txt": "nothing to see\nsecret-content-4\n",
    # enough findings for a record above "a few KiB": its findings go to /cas/
    "big.txt": "".join("line %d is bad%s\n" % (i, "!" * (i % 7)) for i in range(800))
               + "secret-content-5\n",
}
SMALL = sorted(p for p in FILES if p != "big.txt")
TIMEOUT_MS = 2000


def remote_warnings(text):
    """The lines of a command's stderr (or a log) that warn about the remote
    cache; the contract: at most one per run, and it says "remote cache"."""
    return [ln for ln in text.splitlines() if "remote cache" in ln.lower()]


def gate_of(run_json, name="words"):
    assert isinstance(run_json, dict), run_json
    gates = [g for g in run_json["gates"] if g["name"] == name]
    assert len(gates) == 1, run_json
    return gates[0]


def findings_text(run_json):
    """The gate's findings exactly as printed (key order and all), to compare
    two runs byte for byte."""
    return json.dumps(gate_of(run_json)["findings"], ensure_ascii=False)


def findings_text_of(run_json, gate):
    return json.dumps(gate_of(run_json, gate)["findings"], ensure_ascii=False)


def findings_of(run_json, path):
    return [f for f in gate_of(run_json)["findings"] if f["path"] == path]


class Team:
    """Repository A (the origin, which writes), its clones (which read), the
    gate tool and its record, and one nginx cache."""

    def __init__(self, tmp_path, env, cache):
        self.tmp = tmp_path
        self.env = env
        self.cache = cache
        tools = tmp_path / "tools"
        tools.mkdir()
        self.tool = tools / "words.py"
        self.tool.write_text(WORDS_TOOL, encoding="utf-8")
        self.record = tmp_path / "invocations.jsonl"
        self.record.write_text("")
        self.origin = tmp_path / "a"
        self.results = []  # every Result: the token must be in none of them

    def gate(self):
        return {"name": "words", "type": "command", "include": ["**/*.txt"],
                "command": ["/usr/bin/python3", str(self.tool), "{files}"],
                "parser": "gcc", "timeout_s": 60}

    def make_origin(self, files=None, **top):
        """A with the words gate and `files` (default FILES), committed."""
        make_repo(self.origin)
        write_config(self.origin, [self.gate()], **top)
        self.write(self.origin, FILES if files is None else files)
        commit_all(self.origin, "files")
        return self.origin

    @staticmethod
    def write(root, files):
        for rel, text in files.items():
            p = Path(root) / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")

    def clone(self, name):
        """A fresh clone of A: same paths and blobs, no ledger."""
        dest = self.tmp / name
        subprocess.run(["git", "clone", "-q", str(self.origin), str(dest)], check=True,
                       capture_output=True)
        git(dest, "config", "user.name", "watchd tests")
        git(dest, "config", "user.email", "tests@watchd.invalid")
        assert not (dest / ".watchd").exists()
        return dest

    def watchd(self, root, *args, url="cache", write=None, token=None, extra=None,
               timeout=60):
        """`watchd ARGS` in root. url: "cache" (this nginx), None (no
        WATCHD_REMOTE_CACHE_URL: the config decides) or a URL; write: None
        (unset), True ("1") or False ("0"). The caller's own WATCHD_REMOTE_*
        never leak in."""
        e = {"WATCHD_TEST_RECORD": str(self.record),
             "WATCHD_REMOTE_CACHE_URL": self.cache.url if url == "cache" else url,
             "WATCHD_REMOTE_CACHE_WRITE": None if write is None else ("1" if write else "0"),
             "WATCHD_REMOTE_CACHE_TOKEN": token}
        e.update(extra or {})
        r = run_watchd(args, root, self.env, timeout=timeout, env_extra=e)
        self.results.append(r)
        return r

    def start(self, root, **kw):
        """Starts the daemon in root (watchd() keywords); returns its pid,
        tracked for the session's clean-up."""
        r = self.watchd(root, "start", **kw)
        assert r.rc == 0, str(r)
        st = self.watchd(root, "status", "--json", url=None)
        pid = st.json.get("pid") if isinstance(st.json, dict) else None
        track_daemon(pid)
        return pid

    def stop(self, root, pid):
        self.watchd(root, "stop", url=None, timeout=30)
        if isinstance(pid, int):
            kill_daemon(pid)

    def show(self, root, run_json):
        r = self.watchd(root, "show", run_json["id"], "--json", url=None)
        assert r.rc == 0 and isinstance(r.json, dict), str(r)
        return r.json

    def invocations(self, root):
        """The files the tool was started for in root, in start order."""
        out = []
        want = str(Path(root).resolve())
        for line in self.record.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if str(Path(rec["cwd"]).resolve()) == want:
                out += [a[2:] if a.startswith("./") else a for a in rec["argv"] if a != "--"]
        return out

    def upload_all(self, files=None):
        """A, with `files` (default FILES) committed, runs once with write
        enabled; returns {path: {"ac": [names], "cas": [names]}}, the entries
        that belong to each file. A record names its file right after its
        gate (docs/remote-cache.md), inline in its /ac/ entry or in the /cas/
        blob the entry names."""
        files = FILES if files is None else files
        self.make_origin(files=files)
        r = self.watchd(self.origin, "run", "--json", write=True)
        assert r.rc in (0, 1), str(r)
        named = re.compile(rb'"gate":"words","path":"([^"]*)"')
        owned = {rel: {"ac": [], "cas": []} for rel in files}
        for p in self.cache.entries("ac"):
            data = p.read_bytes()
            m = named.search(data)
            if m is None:  # the record is in the blob the entry names
                blob = next(c for c in self.cache.entries("cas")
                            if c.name.encode() in data)
                m = named.search(blob.read_bytes())
                owned[m.group(1).decode()]["cas"].append(blob.name)
            owned[m.group(1).decode()]["ac"].append(p.name)
        for rel in files:
            assert owned[rel]["ac"], f"no result record uploaded for {rel}"
        return owned


@pytest.fixture
def cache(tmp_path):
    if httpcache.NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    with httpcache.Nginx(tmp_path / "nginx") as srv:
        yield srv


@pytest.fixture
def team(tmp_path, env, cache):
    return Team(tmp_path, env, cache)


@pytest.fixture
def slow():
    with httpcache.SlowServer(delay=30) as srv:
        yield srv


# --- the harness itself (passes without the remote cache) -------------------

@needs_nginx
def test_httpcache_fixture_put_get_and_access_log(cache):
    key = "ab" * 32
    st, _ = cache.http("PUT", f"ac/{key}", b"record", {"Authorization": "Bearer t0k"})
    assert st in (201, 204)
    # create_full_put_path: nested directories come into being
    st, _ = cache.http("PUT", f"cas/{'cd' * 32}", b"x" * (5 << 20))
    assert st in (201, 204)
    assert [p.name for p in cache.entries("ac")] == [key]
    assert (cache.root / "ac" / key).read_bytes() == b"record"
    assert (cache.root / "cas" / ("cd" * 32)).stat().st_size == 5 << 20
    assert cache.http("GET", f"ac/{key}") == (200, b"record")
    assert cache.http("HEAD", f"ac/{key}")[0] == 200
    assert cache.http("GET", f"ac/{'ef' * 32}")[0] == 404
    # urllib, as a user's script would
    with urllib.request.urlopen(f"{cache.url}/ac/{key}", timeout=10) as resp:
        assert resp.read() == b"record"
    # nginx logs a request after its response is sent: the client can be
    # reading its body before the line is written
    wait_until(lambda: len(cache.cache_requests()) >= 6, 10, what="nginx to log 6 requests")
    reqs = cache.cache_requests()
    assert [(r.method, r.status) for r in reqs] == [
        ("PUT", 201), ("PUT", 201), ("GET", 200), ("HEAD", 200), ("GET", 404), ("GET", 200)]
    assert reqs[0].uri == f"/cache/ac/{key}" and reqs[0].auth == "Bearer t0k"
    assert all(r.auth == "" for r in reqs[1:])
    assert all(r.start <= r.end for r in reqs)
    assert cache.counts() == {"PUT": 2, "GET": 3, "HEAD": 1}
    mark = cache.mark()
    cache.http("GET", f"ac/{key}")
    wait_until(lambda: cache.since(mark), 10, what="nginx to log the GET")
    assert [r.method for r in cache.since(mark)] == ["GET"]
    assert len(cache.stored_files()) == 2
    port = cache.port
    cache.kill()
    assert not cache.alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_httpcache_fixture_max_concurrency():
    R = httpcache.Request
    seq = [R("GET", "/a", 404, "", 1.000, 1.010, 1), R("GET", "/b", 404, "", 1.010, 1.020, 1)]
    assert httpcache.max_concurrency(seq) == 1
    par = [R("GET", f"/{i}", 404, "", 1.0 + i * 0.001, 1.5, i) for i in range(8)]
    assert httpcache.max_concurrency(par) == 8
    # one keep-alive connection asked in sequence; then four at once
    assert httpcache.max_open_connections(seq) == 1
    four = [R("GET", f"/{i}", 404, "", 2.0, 2.0, 10 + i % 4) for i in range(40)]
    assert httpcache.max_open_connections(four) == 4


def test_httpcache_fixture_slow_and_failing_servers():
    with httpcache.SlowServer(delay=30) as slow_srv:
        t0 = time.monotonic()
        with pytest.raises((socket.timeout, urllib.error.URLError)):
            urllib.request.urlopen(f"{slow_srv.url}/ac/{'0' * 64}", timeout=0.5)
        assert time.monotonic() - t0 < 10
        assert slow_srv.received[0][:2] == ("GET", f"/cache/ac/{'0' * 64}")
    with httpcache.SlowServer(delay=0, status=500) as failing:
        with pytest.raises(urllib.error.HTTPError) as ei:
            urllib.request.urlopen(f"{failing.url}/ac/{'0' * 64}", timeout=10)
        assert ei.value.code == 500
        assert len(failing.received) == 1


@needs_nginx
def test_httpcache_fixture_team_harness_runs_locally(team):
    """The words gate, the record and clones work on today's binary, with no
    remote cache configured."""
    a = team.make_origin()
    r = team.watchd(a, "run", "--json", url=None)
    assert r.rc == 1, str(r)
    assert sorted(team.invocations(a)) == sorted(FILES)
    g = gate_of(r.json)
    assert g["status"] == "fail" and g["cached"] is False
    assert len(findings_of(r.json, "big.txt")) == 800
    assert [f["line"] for f in findings_of(r.json, "src/two.txt")] == [2, 3]
    b = team.clone("b")
    assert team.invocations(b) == []
    r2 = team.watchd(b, "run", "--json", url=None)
    assert findings_text(r2.json) == findings_text(r.json)
    assert sorted(team.invocations(b)) == sorted(FILES)


# --- 1. A runs and uploads ----------------------------------------------------

@needs_nginx
def test_1_origin_runs_and_uploads(team, cache):
    a = team.make_origin(remote_cache={"url": cache.url, "read": True, "write": True,
                                       "timeout_ms": TIMEOUT_MS})
    r = team.watchd(a, "run", "--json", url=None)
    assert r.rc == 1, str(r)
    assert sorted(team.invocations(a)) == sorted(FILES)
    assert gate_of(r.json)["cached"] is False
    assert remote_warnings(r.stderr) == [], r.stderr
    # `run` waits for its uploads: they are there when it returns
    ac = cache.entries("ac")
    assert len(ac) == len(FILES), [p.name for p in ac]  # one record per (gate, file)
    assert all(len(p.name) == 64 and int(p.name, 16) >= 0 for p in ac)
    assert cache.entries("cas"), "big.txt's findings should travel as a /cas/ blob"
    puts = cache.cache_requests("PUT")
    assert puts and all(x.status in (201, 204) for x in puts)
    # results travel, content never does
    for p in cache.stored_files():
        data = p.read_bytes()
        assert b"secret-content-" not in data, p
    # a second run is local (ledger first) and uploads nothing new
    mark, stored = cache.mark(), cache.stored_files()
    r2 = team.watchd(a, "run", "--json", url=None)
    assert gate_of(r2.json)["cached"] is True
    assert gate_of(r2.json).get("cached_from") != "remote"
    assert cache.since(mark, "GET") == [], "a local hit was looked up remotely"
    assert cache.stored_files() == stored


# --- 2. a fresh clone gets every result from the remote -------------------------

@needs_nginx
def test_2_fresh_clone_gets_every_result_from_the_remote(team, cache):
    a = team.make_origin()
    ra = team.watchd(a, "run", "--json", write=True)
    assert ra.rc == 1, str(ra)
    b = team.clone("b")
    mark = cache.mark()
    rb = team.watchd(b, "run", "--json")
    assert rb.rc == ra.rc, str(rb)
    assert team.invocations(b) == [], "the tool started in the clone"
    g = gate_of(rb.json)
    assert g["status"] == gate_of(ra.json)["status"]
    assert g["cached"] is True and g["cached_from"] == "remote", g
    assert g["remote"] == cache.url
    assert g["remote_hits"] == len(FILES)
    assert sorted(g["files"]) == sorted(FILES)
    assert remote_warnings(rb.stderr) == [], rb.stderr
    # byte-identical findings, as the ledger keeps them
    sa, sb = team.show(a, ra.json), team.show(b, rb.json)
    assert findings_text(sb) == findings_text(sa)
    assert gate_of(sb)["cached_from"] == "remote" and gate_of(sb)["remote"] == cache.url
    # read-only by default: the clone only read
    got = cache.since(mark)
    assert got and {x.method for x in got} <= {"GET", "HEAD"}, got
    # the hits were written to the local ledger: with the server gone, the
    # next run is local, quiet and still starts no tool
    cache.kill()
    rb2 = team.watchd(b, "run", "--json")
    assert rb2.rc == ra.rc, str(rb2)
    assert team.invocations(b) == []
    g2 = gate_of(rb2.json)
    assert g2["cached"] is True and g2.get("cached_from") != "remote", g2
    assert remote_warnings(rb2.stderr) == [], rb2.stderr
    assert findings_text(rb2.json) == findings_text(sa)


FAKE_RUFF = r"""#!/usr/bin/python3
import json, os, sys
with open(os.environ["WATCHD_TEST_RECORD"], "a") as f:
    f.write(json.dumps({"cwd": os.getcwd(), "argv": ["ruff"] + sys.argv[1:]}) + "\n")
if "--version" in sys.argv[1:] or sys.argv[1:2] == ["version"]:
    print("ruff 9.9.9")
    sys.exit(0)
out = []
for p in sys.argv[1:]:
    if p.endswith(".py"):
        with open(p) as fh:
            for n, line in enumerate(fh, 1):
                if "bad" in line:
                    out.append({"code": "E999", "message": "bad name", "filename":
                                os.path.abspath(p), "location": {"row": n, "column": 1},
                                "end_location": {"row": n, "column": 4}, "fix": None,
                                "url": None, "noqa_row": n, "cell": None})
print(json.dumps(out))
sys.exit(1 if out else 0)
"""


@needs_nginx
def test_2_fresh_clone_with_a_versioned_tool_only_asks_its_version(team, cache, tmp_path):
    """A ruff gate: its fingerprint holds the tool's version, which a fresh
    clone does not know yet. The clone may start `ruff --version`, and
    nothing else: every `ruff check` answer comes from the remote."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ruff").write_text(FAKE_RUFF)
    (bindir / "ruff").chmod(0o755)
    path = {"PATH": f"{bindir}{os.pathsep}{team.env['PATH']}"}
    make_repo(team.origin)
    write_config(team.origin, [{"name": "ruff", "type": "ruff", "include": ["**/*.py"]}])
    team.write(team.origin, {f"pkg/m{i}.py": f"x{i} = {i}\n" + ("bad = 1\n" * (i % 3))
                             for i in range(12)})
    commit_all(team.origin, "python")
    ra = team.watchd(team.origin, "run", "--json", write=True, extra=path)
    assert ra.rc == 1, str(ra)
    assert len(cache.entries("ac")) == 12
    b = team.clone("b")
    rb = team.watchd(b, "run", "--json", extra=path)
    assert rb.rc == 1, str(rb)
    started = [a for a in team.invocations(b) if a != "ruff"]
    assert set(started) <= {"--version", "version"}, \
        f"ruff judged files in the clone: {started}"
    g = gate_of(rb.json, "ruff")
    assert g["cached"] is True and g["cached_from"] == "remote", g
    assert g["remote_hits"] == 12
    assert findings_text_of(team.show(b, rb.json), "ruff") == \
        findings_text_of(team.show(team.origin, ra.json), "ruff")


# --- 3. a changed file misses and runs locally ----------------------------------

@needs_nginx
def test_3_changed_file_misses_and_runs_locally(team, cache):
    a = team.make_origin()
    ra = team.watchd(a, "run", "--json", write=True)
    assert ra.rc == 1, str(ra)
    c = team.clone("c")
    (c / "src" / "one.txt").write_text("now bad twice: bad\nsecret-content-1\n")
    rc_ = team.watchd(c, "run", "--json")
    assert rc_.rc == 1, str(rc_)
    assert team.invocations(c) == ["src/one.txt"]
    g = gate_of(rc_.json)
    assert g["remote_hits"] == len(FILES) - 1, g
    assert g.get("cached") is not True  # one file was judged here
    assert [(f["line"], f["col"]) for f in findings_of(rc_.json, "src/one.txt")] == [(1, 5)]
    for rel in FILES:
        if rel != "src/one.txt":
            assert findings_of(rc_.json, rel) == findings_of(ra.json, rel), rel


# --- 4. the server dies mid-run; or is down from the start ------------------------

@needs_nginx
def test_4_server_killed_mid_run_still_completes_with_one_warning(team, cache):
    """A writes; its gate's tool kills nginx after the lookups (all misses)
    and before the uploads, which then fail."""
    a = team.make_origin()
    ref = team.watchd(a, "run", "--json", url=None)  # the answers without any remote
    assert ref.rc == 1, str(ref)
    b = team.clone("b")
    r = team.watchd(b, "run", "--json", write=True,
                    extra={"WATCHD_TEST_KILL_PGID": str(cache.pgid),
                           "WATCHD_TEST_KILL_PORT": str(cache.port)})
    assert not cache.alive()
    assert r.rc == 1, str(r)
    assert r.json["status"] == "fail"
    assert sorted(team.invocations(b)) == sorted(FILES)
    assert findings_text(r.json) == findings_text(ref.json)
    assert len(remote_warnings(r.stderr)) == 1, r.stderr
    # the lookups did reach the server: it died mid-run, not before
    assert cache.cache_requests(), "no request reached the server before it died"
    assert cache.cache_requests("PUT") == []
    # the run is recorded whole
    assert findings_text(team.show(b, r.json)) == findings_text(ref.json)


@needs_nginx
def test_4_server_down_costs_one_warning_per_run_not_per_file(team, cache):
    a = team.make_origin()
    url = cache.url
    cache.kill()
    for args in (("run", "--json"), ("ci", "--format", "json")):
        b = team.clone("b-" + args[0])
        r = team.watchd(b, *args, url=url, write=True)
        assert r.rc == 1, str(r)
        assert sorted(team.invocations(b)) == sorted(FILES)
        assert len(remote_warnings(r.stderr)) == 1, r.stderr
    ra = team.watchd(a, "run", "--json", url=url)
    assert ra.rc == 1 and len(remote_warnings(ra.stderr)) == 1, str(ra)


# --- 5. corrupt and truncated entries ---------------------------------------------

def _truncate(data, other):
    return data[:len(data) // 2]


def _empty(data, other):
    return b""


def _flip(data, other):
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def _garbage(data, other):
    return secrets.token_bytes(len(data))


def _other_key(data, other):
    return other


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _ac_inner(entry):
    """The record an action-cache entry holds inline: watchd writes the
    smallest ActionResult, field 5 (stdout_raw) alone (docs/remote-cache.md)."""
    assert entry[:1] == b"\x2a", entry[:8]
    n, shift, i = 0, 0, 1
    while True:
        b = entry[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            break
    assert len(entry) == i + n
    return entry[i:]


def _ac_wrap(record):
    return b"\x2a" + _varint(len(record)) + record


def _other_version(entry, other):
    """The entry's record, rewritten as by _record_other_version and wrapped
    again, so that the entry is well formed and only the version is wrong."""
    return _ac_wrap(_record_other_version(_ac_inner(entry), other))


def _record_other_version(data, other):
    """The same record claiming another format version, and nothing else
    wrong: the JSON body's integer version field is moved on, and when a
    header line comes first, its copy of the version and the body's
    SHA-256 and length are rewritten to match (so only the version can be
    what rejects it)."""
    head, nl, body = data.partition(b"\n")
    for prefix, text in ((b"", data), (head, body) if nl else (None, None)):
        if text is None:
            continue
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if not isinstance(doc, dict):
            continue
        for k in ("version", "format_version", "v"):
            old = doc.get(k)
            if isinstance(old, int) and not isinstance(old, bool):
                doc[k] = old + 1000
                new_body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
                if not prefix:
                    return new_body
                swap = {hashlib.sha256(text).hexdigest().encode():
                        hashlib.sha256(new_body).hexdigest().encode(),
                        str(len(text)).encode(): str(len(new_body)).encode(),
                        str(old).encode(): str(old + 1000).encode()}
                return b" ".join(swap.get(t, t) for t in prefix.split(b" ")) + b"\n" + new_body
    pytest.skip("the record holds no JSON object with an integer version field; "
                "cannot forge another format version generically")


CORRUPTIONS = {"truncated": _truncate, "empty": _empty, "flipped-byte": _flip,
               "garbage": _garbage, "other-key": _other_key, "other-version": _other_version}


@needs_nginx
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS) + ["cas-truncated", "cas-flipped",
                                                        "cas-missing"])
def test_5_corrupt_and_truncated_entries_are_ignored(team, cache, kind):
    owned = team.upload_all()
    ref = team.watchd(team.origin, "run", "--json", url=None)  # A's answers, from its ledger
    victim, donor = "src/one.txt", "src/two.txt"  # their findings differ
    if kind.startswith("cas-"):
        victim = "big.txt"
        assert owned[victim]["cas"], "big.txt's findings were not stored in /cas/"
        for name in owned[victim]["cas"]:
            p = cache.root / "cas" / name
            if kind == "cas-missing":
                p.unlink()
            elif kind == "cas-truncated":
                p.write_bytes(_truncate(p.read_bytes(), None))
            else:
                p.write_bytes(_flip(p.read_bytes(), None))
    else:
        assert len(owned[victim]["ac"]) == 1 and len(owned[donor]["ac"]) == 1, owned
        p = cache.root / "ac" / owned[victim]["ac"][0]
        other = (cache.root / "ac" / owned[donor]["ac"][0]).read_bytes()
        p.write_bytes(CORRUPTIONS[kind](p.read_bytes(), other))
    b = team.clone("b")
    r = team.watchd(b, "run", "--json")
    assert r.rc == 1, str(r)
    # the damaged entry is never trusted: that file, and only it, ran here
    assert team.invocations(b) == [victim]
    assert gate_of(r.json)["remote_hits"] == len(FILES) - 1
    assert findings_text(r.json) == findings_text(ref.json)
    warned = remote_warnings(r.stderr)
    if kind == "cas-missing":
        assert len(warned) <= 1, r.stderr  # a miss more than a damage
    else:
        assert len(warned) == 1, r.stderr
    if kind == "other-version":
        assert "version" in warned[0], warned
    if kind == "other-key":
        assert "another key" in warned[0], warned
    # and the local ledger holds the local answer, not the damaged one
    cache.kill()
    r2 = team.watchd(b, "run", "--json")
    assert team.invocations(b) == [victim]
    assert findings_text(r2.json) == findings_text(ref.json)


@needs_nginx
def test_5_many_damaged_entries_still_one_warning(team, cache):
    a = team.make_origin()
    assert team.watchd(a, "run", "--json", write=True).rc == 1
    for p in cache.entries("ac"):
        p.write_bytes(_truncate(p.read_bytes(), None))
    b = team.clone("b")
    r = team.watchd(b, "run", "--json")
    assert r.rc == 1, str(r)
    assert sorted(team.invocations(b)) == sorted(FILES)
    assert len(remote_warnings(r.stderr)) == 1, r.stderr


# --- 6. read-only mode never writes ---------------------------------------------------

@needs_nginx
@pytest.mark.parametrize("how", ["config-write-false", "env-write-0", "env-url-only"])
def test_6_read_only_never_writes(team, cache, how):
    if how == "config-write-false":
        a = team.make_origin(remote_cache={"url": cache.url, "read": True, "write": False,
                                           "timeout_ms": TIMEOUT_MS})
        kw = {"url": None}
    elif how == "env-write-0":
        a = team.make_origin(remote_cache={"url": cache.url, "read": True, "write": True,
                                           "timeout_ms": TIMEOUT_MS})
        kw = {"url": None, "write": False}
    else:
        a = team.make_origin()
        kw = {}
    r = team.watchd(a, "run", "--json", **kw)
    assert r.rc == 1, str(r)
    (a / "src" / "clean.txt").write_text("staged bad\n")
    git(a, "add", "src/clean.txt")
    r = team.watchd(a, "check", "--staged", **kw)
    assert r.rc == 1, str(r)
    commit_all(a, "more")
    b = team.clone("b")
    r = team.watchd(b, "ci", "--format", "json", **kw)
    assert r.rc == 1, str(r)
    reqs = cache.cache_requests()
    assert any(x.method in ("GET", "HEAD") for x in reqs), "the remote was never consulted"
    assert [x for x in reqs if x.method not in ("GET", "HEAD")] == []
    assert cache.stored_files() == []


# --- 7. the token is sent, and stored or logged nowhere --------------------------------

def _state_bytes(root):
    """Every file under ROOT/.watchd (ledger.db, its -wal and -shm, the log)."""
    d = Path(root) / ".watchd"
    return {str(p): p.read_bytes() for p in d.rglob("*") if p.is_file()} if d.is_dir() else {}


def _assert_nowhere(secret, team, roots):
    s = secret.encode()
    for r in team.results:
        assert secret not in r.stdout and secret not in r.stderr, str(r)
    for root in roots:
        state = _state_bytes(root)
        assert state, f"no state under {root}/.watchd"
        for path, data in state.items():
            assert s not in data, f"the secret is in {path}"
    for p in team.cache.stored_files():
        assert s not in p.read_bytes(), f"the secret is in the stored entry {p}"


@needs_nginx
def test_7_token_is_sent_and_never_logged_or_stored(team, cache):
    token = "wdtok-" + secrets.token_hex(16)
    a = team.make_origin()
    assert team.watchd(a, "run", "--json", write=True, token=token).rc == 1
    assert team.watchd(a, "ci", "--format", "json", write=True, token=token).rc == 1
    b = team.clone("b")
    rb = team.watchd(b, "run", "--json", token=token)
    assert rb.rc == 1, str(rb)
    assert gate_of(rb.json)["cached_from"] == "remote"
    # the JSON the user sees, and the ledger's own listings
    for root in (a, b):
        team.watchd(root, "log", "--json", url=None)
        team.watchd(root, "status", "--json", url=None)
    team.show(b, rb.json)
    reqs = cache.cache_requests()
    assert {x.method for x in reqs} >= {"GET", "PUT"}, reqs
    assert all(x.auth == f"Bearer {token}" for x in reqs), \
        {(x.method, x.auth) for x in reqs}
    _assert_nowhere(token, team, [a, b])


@needs_nginx
def test_7_url_credentials_are_never_shown_or_stored(team, cache):
    password = "pw" + secrets.token_hex(12)
    url = cache.url.replace("http://", f"http://ci-user:{password}@")
    a = team.make_origin()
    ra = team.watchd(a, "run", "--json", url=url, write=True)
    assert ra.rc == 1, str(ra)
    b = team.clone("b")
    rb = team.watchd(b, "run", "--json", url=url)
    g = gate_of(rb.json)
    assert g["cached_from"] == "remote" and g["remote"] == cache.url, g
    assert gate_of(team.show(b, rb.json))["remote"] == cache.url
    _assert_nowhere(password, team, [a, b])


@needs_nginx
def test_7_token_never_reaches_the_daemon_log(team, cache):
    token = "wdtok-" + secrets.token_hex(16)
    a = team.make_origin(debounce_ms=50, stability_ms=20)
    assert team.watchd(a, "run", "--json", write=True, token=token).rc == 1
    b = team.clone("b")
    pid = team.start(b, token=token)
    try:
        (b / "fresh.txt").write_text("a bad new file\n")
        r = team.watchd(b, "status", "--sync", "--json", "--timeout", "60", url=None,
                        timeout=90)
        assert r.rc == 1, str(r)
        assert "fresh.txt" in team.invocations(b)
    finally:
        team.stop(b, pid)
    assert any(x.auth == f"Bearer {token}" for x in cache.cache_requests())
    _assert_nowhere(token, team, [a, b])


# --- 8. a slow server costs no more than timeout_ms --------------------------------------

def test_8_slow_server_costs_at_most_timeout(tmp_path, env, slow):
    team = Team(tmp_path, env, slow)
    timeout_ms = 500
    # a bound, not a benchmark: the local work here takes well under a second
    bound = timeout_ms / 1000 + 3
    a = team.make_origin(remote_cache={"url": slow.url, "read": True, "write": False,
                                       "timeout_ms": timeout_ms})
    # the commit path: the hook's `check --staged`
    (a / "src" / "clean.txt").write_text("staged and bad\n")
    git(a, "add", "src/clean.txt")
    t0 = time.monotonic()
    r = team.watchd(a, "check", "--staged", url=None)
    took = time.monotonic() - t0
    assert r.rc == 1, str(r)
    assert took < bound, f"check --staged took {took:.2f}s against a server that never answers"
    assert team.invocations(a) == ["src/clean.txt"]
    assert len(remote_warnings(r.stderr)) == 1, r.stderr
    assert slow.received, "the server was never asked"
    # a writing run: lookups and uploads together stay within the bound
    b = team.clone("b")
    t0 = time.monotonic()
    r = team.watchd(b, "run", "--json", url=slow.url, write=True)
    took = time.monotonic() - t0
    assert r.rc == 1, str(r)
    assert took < bound, f"run took {took:.2f}s against a server that never answers"
    assert sorted(team.invocations(b)) == sorted(FILES)
    assert len(remote_warnings(r.stderr)) == 1, r.stderr


# --- back-off: after a failure the daemon asks nothing for a while ------------------------

def test_daemon_backs_off_after_a_failure(tmp_path, env):
    """A server that fails at once (500): the first change asks it and runs
    locally; the next change, within the back-off interval, asks nothing."""
    with httpcache.SlowServer(delay=0, status=500) as failing:
        t = Team(tmp_path, env, failing)
        root = t.make_origin(files={"a.txt": "bad\n"}, debounce_ms=50, stability_ms=20,
                             remote_cache={"url": failing.url, "read": True, "write": True,
                                           "timeout_ms": 1000})
        pid = t.start(root, url=None)
        try:

            def change(name):
                (root / name).write_text("another bad line\n")
                s = t.watchd(root, "status", "--sync", "--json", "--timeout", "60",
                             url=None, timeout=90)
                assert s.rc == 1, str(s)
                assert name in t.invocations(root), t.invocations(root)

            change("first.txt")
            asked = len(failing.received)
            assert asked >= 1, "the daemon never asked the remote cache"
            change("second.txt")
            change("third.txt")
            assert len(failing.received) == asked, failing.received[asked:]
        finally:
            t.stop(root, pid)
        log = (root / ".watchd" / "watchd.log").read_text(errors="replace")
        assert remote_warnings(log), "the failure was not logged"



# --- batching: the index of a gate at a commit --------------------------------

MANY = dict(FILES, **{f"gen/f{i:02d}.txt": ("bad %d\n" % i if i % 3 == 0 else "ok %d\n" % i)
                      for i in range(30)})


@needs_nginx
def test_index_answers_a_fresh_clone_in_three_requests(team, cache):
    a = team.make_origin(files=MANY)
    ra = team.watchd(a, "run", "--json", write=True)
    assert ra.rc == 1, str(ra)
    # one record per file, and the indexes of this set and of this commit
    assert len(cache.entries("ac")) == len(MANY) + 2
    b = team.clone("b")
    mark = cache.mark()
    rb = team.watchd(b, "run", "--json")
    assert rb.rc == 1, str(rb)
    assert team.invocations(b) == []
    g = gate_of(rb.json)
    assert g["cached_from"] == "remote" and g["remote_hits"] == len(MANY), g
    assert findings_text(team.show(b, rb.json)) == findings_text(team.show(a, ra.json))
    got = cache.since(mark)
    # both indexes asked at once, then the blob of the one that answered
    assert [x.method for x in got] == ["GET", "GET", "GET"], got
    assert remote_warnings(rb.stderr) == [], rb.stderr


@needs_nginx
def test_index_leaves_changed_files_to_their_own_entries(team, cache):
    a = team.make_origin(files=MANY)
    assert team.watchd(a, "run", "--json", write=True).rc == 1
    c = team.clone("c")
    # one file as A judged it but edited here, one new: neither is in the index
    (c / "gen/f01.txt").write_text("bad now\n", encoding="utf-8")
    (c / "gen/new.txt").write_text("fine\n", encoding="utf-8")
    mark = cache.mark()
    rc = team.watchd(c, "run", "--json")
    assert rc.rc == 1, str(rc)
    assert sorted(team.invocations(c)) == ["gen/f01.txt", "gen/new.txt"]
    assert gate_of(rc.json)["remote_hits"] == len(MANY) - 1
    assert findings_of(rc.json, "gen/f01.txt"), "the edited file was judged as it is now"
    got = cache.since(mark, "GET")
    # the set's index misses (its content differs), the commit's answers;
    # then the two files' own entries
    assert len(got) == 5, got
    # a run of fewer files than an index pays for uploads none
    mark = cache.mark()
    d = team.clone("d")
    (d / "gen/f02.txt").write_text("changed\n", encoding="utf-8")
    r = team.watchd(d, "run", "--json", "gen/f02.txt", write=True)
    assert r.rc in (0, 1), str(r)
    assert len(cache.since(mark, "PUT")) == 1, cache.since(mark)


# --- where people look: status, doctor ------------------------------------------

@needs_nginx
def test_daemon_status_and_doctor_show_the_remote_cache(team, cache):
    a = team.make_origin(debounce_ms=50, stability_ms=20)
    assert team.watchd(a, "run", "--json", write=True).rc == 1
    b = team.clone("b")
    d = team.watchd(b, "doctor", "--json")
    checks = {c["name"]: c for c in d.json["checks"]} if isinstance(d.json, dict) else {}
    assert checks.get("remote cache", {}).get("status") == "ok", str(d)
    assert cache.url in checks["remote cache"]["detail"]
    pid = team.start(b)
    try:
        # the daemon judges a file A judged, in content and path: a remote hit
        (b / "src" / "one.txt").write_text("changed\n")
        assert team.watchd(b, "status", "--sync", "--json", url=None).rc in (0, 1)
        git(b, "checkout", "--", "src/one.txt")
        st = team.watchd(b, "status", "--sync", "--json", url=None)
        rc = st.json["remote_cache"]
        assert rc["url"] == cache.url and rc["read"] is True and rc["write"] is False, rc
        assert rc["hits"] >= 1 and rc["backing_off_until"] is None, rc
        text = team.watchd(b, "status", url=None)
        assert f"remote cache: {cache.url} (read)" in text.stdout, text.stdout
        # the server gone: doctor says so, and nothing hangs
        cache.kill()
        d = team.watchd(b, "doctor", "--json", url="cache")
        checks = {c["name"]: c for c in d.json["checks"]}
        assert checks["remote cache"]["status"] == "warn", checks["remote cache"]
    finally:
        team.stop(b, pid)
