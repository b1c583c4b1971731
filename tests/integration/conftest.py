"""Black-box integration tests for watchd: shared fixtures and helpers.

Every test gets a fresh git repository as ROOT (`repo`), a private
XDG_RUNTIME_DIR (so a private socket directory), PATH with tests/tools first
and the sanitizer options that make an ASan/UBSan build stop at the first
report. `watchd(*args)` runs the binary named by $WATCHD (default
build/asan/watchd, else ./watchd, relative to the repository root) and
returns (rc, stdout, stderr, json). Tests wait with `watchd status --sync`
or `wait_until`, never with a bare sleep.

A missing or stale binary (one that does not answer `watchd version`) fails
the suite with a rebuild hint; it never skips it, since a suite that skipped
everything would read as a pass. `requires(cmd...)` skips a module only for a
command the binary says is not built yet.

Shared harnesses live here too: `rec` (a Recorder: the daemon with a gate that
writes down every file it is handed) for the watch tests, and `root` (a Root:
ROOT, its environment and a `watchd --root ROOT` caller returning a tuple) for
the ledger tests.
"""
import functools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_DIR / "tests" / "tools"
ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def _find_binary() -> Path:
    given = os.environ.get("WATCHD")
    if given:
        p = Path(given)
        if not p.is_absolute():
            p = p.resolve() if p.exists() else REPO_DIR / p
        return p
    for cand in (REPO_DIR / "build" / "asan" / "watchd", REPO_DIR / "watchd"):
        if cand.exists():
            return cand
    return REPO_DIR / "build" / "asan" / "watchd"


WATCHD = _find_binary()


def base_env(xdg_runtime_dir: str) -> dict:
    """The environment every watchd invocation gets. No WATCHD_TEST_* hook
    leaks in from the caller's environment: a test sets the ones it uses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHD_TEST_")}
    env["XDG_RUNTIME_DIR"] = xdg_runtime_dir
    env["PATH"] = str(TOOLS_DIR) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    env["LC_ALL"] = env.get("LC_ALL") or "C.UTF-8"
    env.pop("WATCHD_TRACE", None)
    env.pop("GIT_DIR", None)
    env.pop("GIT_INDEX_FILE", None)
    env.pop("GIT_WORK_TREE", None)
    # the tests say which CI they pretend to run in
    for k in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITLAB_CI", "CI", "WATCHD_SKIP"):
        env.pop(k, None)
    return env


def private_runtime_dir() -> str:
    """A short 0700 directory under /tmp (socket paths must stay < 108 bytes)."""
    d = tempfile.mkdtemp(prefix="wd", dir="/tmp")
    os.chmod(d, 0o700)
    return d


class Result(NamedTuple):
    rc: int
    stdout: str
    stderr: str
    json: Any  # stdout parsed as JSON, or None when it does not parse
    argv: tuple = ()

    def __str__(self):
        return (f"watchd {' '.join(self.argv)} -> rc {self.rc}\n"
                f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}")


def _parse_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def sanitizer_report(text: str) -> Optional[str]:
    for mark in SANITIZER_MARKS:
        if mark in text:
            return text[text.index(mark):][:6000]
    return None


def run_watchd(args, cwd, env, timeout=60, env_extra=None, check_sanitizers=True) -> Result:
    e = dict(env)
    if env_extra:
        for k, v in env_extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
    argv = [str(a) for a in args]
    try:
        p = subprocess.run([str(WATCHD)] + argv, cwd=str(cwd), env=e, timeout=timeout,
                           stdin=subprocess.DEVNULL, capture_output=True)
    except subprocess.TimeoutExpired as ex:
        pytest.fail(f"watchd {' '.join(argv)} did not finish within {timeout}s; "
                    f"stderr so far: {(ex.stderr or b'').decode(errors='replace')[-2000:]}")
    out = p.stdout.decode("utf-8", errors="replace")
    err = p.stderr.decode("utf-8", errors="replace")
    res = Result(p.returncode, out, err, _parse_json(out), tuple(argv))
    if check_sanitizers:
        rep = sanitizer_report(err)
        if rep:
            pytest.fail(f"sanitizer report from watchd {' '.join(argv)}:\n{rep}")
    _check_reports(argv, out, cwd)
    return res


SARIF_SCHEMA = REPO_DIR / "tests" / "fixtures" / "sarif-schema" / "sarif-schema-2.1.0.json"
# RFC 3986 relative-ref with a path only: pchar, '/', %HH; no scheme-like
# first segment (a ':' there needs "./" in front)
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-F]{2})"
_URI_REF = re.compile(r"^" + _PCHAR.replace(":@", "@") + r"*(?:/" + _PCHAR + r"*)*$")


def check_sarif(text: str) -> dict:
    """Validates a SARIF log against the official 2.1.0 schema (vendored,
    Debian's python3-jsonschema) and its artifact URIs against RFC 3986;
    returns the document."""
    import jsonschema  # python3-jsonschema
    doc = json.loads(text)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(doc)
    for run in doc["runs"]:
        assert run["tool"]["driver"].get("version") and \
            run["tool"]["driver"].get("informationUri"), run["tool"]
        for res in run.get("results", []):
            for loc in res.get("locations", []):
                art = loc["physicalLocation"]["artifactLocation"]
                assert art.get("uriBaseId") == "%SRCROOT%", art
                assert _URI_REF.match(art["uri"]), art
    return doc


def _check_reports(argv, out, cwd):
    """Every SARIF file or stream a test makes watchd write is validated."""
    for i, a in enumerate(argv[:-1]):
        nxt = argv[i + 1]
        if a == "--format" and nxt == "sarif" and out.strip():
            check_sarif(out)
        if a == "--report" and nxt.startswith("sarif="):
            path = Path(cwd) / nxt[len("sarif="):]
            if path.exists():
                check_sarif(path.read_text(encoding="utf-8"))


def wait_until(predicate, timeout=20, interval=0.05, what=None):
    """Polls predicate until it returns something truthy, and returns that.
    Raises AssertionError naming `what` and the last value on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            name = what or getattr(predicate, "__name__", "condition")
            raise AssertionError(f"timed out after {timeout}s waiting for {name}; "
                                 f"last value: {last!r}")
        time.sleep(interval)


def write_config(root, gates, **top) -> Path:
    """Writes ROOT/watch.config.json: {"version": 1, **top, "gates": gates}."""
    data = {"version": 1}
    data.update(top)
    data["gates"] = gates
    path = Path(root) / "watch.config.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def git(root, *args, check=True) -> str:
    p = subprocess.run(["git", "-C", str(root)] + [str(a) for a in args],
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"git {' '.join(map(str, args))} failed: {p.stderr}")
    return p.stdout


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "watchd tests")
    git(root, "config", "user.email", "tests@watchd.invalid")
    git(root, "config", "commit.gpgsign", "false")
    (root / "README.md").write_text("test repository\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial")
    return root


def commit_all(root, message="change") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    # the state follows the parenthesised command name
    return stat[stat.rindex(")") + 2:][:1] not in ("Z", "X")


_daemon_pids: set = set()


def _is_watchd(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"watchd" in f.read()
    except OSError:
        return False


def track_daemon(pid) -> None:
    if isinstance(pid, int) and pid > 0:
        _daemon_pids.add(pid)


def kill_daemon(pid: int, timeout=10) -> None:
    if pid_alive(pid) and _is_watchd(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_until(lambda: not pid_alive(pid), timeout=timeout, what=f"pid {pid} to die")


def _stop_daemon_of(root, env) -> None:
    """Stops (then kills) a daemon still serving root, if the CLI can tell."""
    sockdir = Path(env["XDG_RUNTIME_DIR"]) / "watchd"
    if not sockdir.is_dir() or not any(sockdir.iterdir()):
        return  # nothing was ever started with this runtime dir
    if _probe("status") is not None:
        return
    st = run_watchd(["status", "--json"], root, env, timeout=30, check_sanitizers=False)
    if isinstance(st.json, dict) and st.json.get("running"):
        pid = st.json.get("pid")
        track_daemon(pid)
        if _probe("stop") is None:
            run_watchd(["stop"], root, env, timeout=30, check_sanitizers=False)
        if isinstance(pid, int):
            kill_daemon(pid)


# --- capability probes ----------------------------------------------------

_PROBE_ARGV = {
    "config": ["config", "check"],
    "run": ["run", "--json"],
    "status": ["status", "--json"],
    "stop": ["stop"],
    "log": ["log", "--json"],
    "show": ["show", "00000000000000000000000000", "--json"],
    "start": ["start"],
}


@functools.lru_cache(maxsize=None)
def binary_missing() -> Optional[str]:
    """None when WATCHD exists and is a real build (it answers `version`),
    else what is wrong and how to fix it."""
    if not WATCHD.exists():
        return (f"watchd binary not found at {WATCHD} (build it with `make BUILD=build/asan "
                f"SANITIZE=address,undefined build/asan/watchd`, or set WATCHD)")
    p = subprocess.run([str(WATCHD), "version"], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if not p.stdout.startswith("watchd "):
        return (f"{WATCHD} does not answer `watchd version` (a stale placeholder build?); "
                f"rebuild it or set WATCHD")
    return None


@functools.lru_cache(maxsize=None)
def _probe(cmd: str) -> Optional[str]:
    """None when `watchd CMD` is implemented, else the reason to skip. A
    missing binary is no reason to skip: `watchd_binary` fails the test."""
    if binary_missing():
        return None
    root = Path(tempfile.mkdtemp(prefix="wdprobe"))
    xdg = private_runtime_dir()
    env = base_env(xdg)
    try:
        write_config(root, [])
        r = run_watchd(["--root", root] + _PROBE_ARGV[cmd], root, env, timeout=60,
                       check_sanitizers=False)
        if "not built yet" in r.stderr:
            return f"`watchd {cmd}` is not built yet (the binary says so)"
        if cmd == "start":
            st = run_watchd(["--root", root, "status", "--json"], root, env, timeout=30,
                            check_sanitizers=False)
            run_watchd(["--root", root, "stop"], root, env, timeout=30, check_sanitizers=False)
            if isinstance(st.json, dict) and isinstance(st.json.get("pid"), int):
                kill_daemon(st.json["pid"])
        return None
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(xdg, ignore_errors=True)


def requires(*cmds):
    """skipif mark: skip unless every `watchd CMD` in cmds is implemented."""
    reasons = [r for r in (_probe(c) for c in cmds) if r]
    return pytest.mark.skipif(bool(reasons), reason="; ".join(dict.fromkeys(reasons)))


def pytest_sessionstart(session):
    """Stops the run at once, with one clear message, when the binary under
    test is missing; exit status 1, so `make test` fails."""
    problem = binary_missing()
    if problem:
        pytest.exit(f"cannot run the integration tests: {problem}", returncode=1)


@pytest.fixture(autouse=True)
def watchd_binary():
    """Every test fails, never skips, without a real binary. This covers the
    runs that do not start from this directory (pytest_sessionstart only runs
    for a conftest.py pytest loads before collecting)."""
    problem = binary_missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    return WATCHD


# Every test already checks for the binary (`watchd_binary` above); these
# names stay for the modules that mark themselves with them.
needs_binary = pytest.mark.usefixtures("watchd_binary")
needs_watchd = pytest.mark.usefixtures("watchd_binary")


def which_outside_tools(name: str) -> Optional[str]:
    """shutil.which on PATH without tests/tools (a real tool, not the stand-in)."""
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep)
             if p and Path(p).resolve() != TOOLS_DIR.resolve()]
    return shutil.which(name, path=os.pathsep.join(parts))


# --- fixtures ---------------------------------------------------------------

@pytest.fixture
def runtime_dir():
    d = private_runtime_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def env(runtime_dir):
    return base_env(runtime_dir)


@pytest.fixture
def repo(tmp_path, env):
    """A fresh git repository with one commit: the test's ROOT."""
    root = make_repo(tmp_path / "repo")
    yield root
    # never leave a daemon behind, whatever the test did
    if binary_missing() is None:
        _stop_daemon_of(root, env)


@pytest.fixture
def watchd(repo, env):
    """watchd(*args, cwd=ROOT, timeout=60, env_extra=None) -> Result."""
    def call(*args, cwd=None, timeout=60, env_extra=None, check_sanitizers=True):
        return run_watchd(args, cwd or repo, env, timeout=timeout, env_extra=env_extra,
                          check_sanitizers=check_sanitizers)
    return call


DEFAULT_DAEMON_CONFIG = {
    "gates": [
        {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
         "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc",
         "timeout_s": 60},
    ],
    "debounce_ms": 50,
    "stability_ms": 20,
}


@pytest.fixture
def daemon_config():
    """The config the `daemon` fixture writes when ROOT has none; override
    this fixture in a module (or parametrize it indirectly) to change it."""
    return DEFAULT_DAEMON_CONFIG


class Daemon(NamedTuple):
    pid: int
    root: Path
    status: Any  # `status --json` right after start


@pytest.fixture
def daemon(repo, watchd, daemon_config):
    """A running daemon on ROOT; stopped (and killed if need be) afterwards."""
    if not (repo / "watch.config.json").exists():
        cfg = dict(daemon_config)
        gates = cfg.pop("gates")
        write_config(repo, gates, **cfg)
    r = watchd("start", timeout=60)
    assert r.rc == 0, str(r)
    st = watchd("status", "--json")
    assert st.rc in (0, 1) and isinstance(st.json, dict), str(st)
    pid = st.json.get("pid")
    track_daemon(pid)
    try:
        yield Daemon(pid, repo, st.json)
    finally:
        watchd("stop", timeout=30, check_sanitizers=False)
        if isinstance(pid, int):
            kill_daemon(pid)
        log = repo / ".watchd" / "watchd.log"
        if log.exists():
            rep = sanitizer_report(log.read_text(errors="replace"))
            if rep:
                pytest.fail(f"sanitizer report in .watchd/watchd.log:\n{rep}")


# --- the recorder gate (the watch tests) -----------------------------------

class Recorder:
    """The daemon on ROOT with one gate, tests/tools/record-files, that
    writes down every file it is handed and what the file held (one JSON
    line each), so a test checks what the tool actually saw."""

    def __init__(self, repo, watchd, env, tmp_path):
        self.repo = repo
        self.watchd = watchd
        self.env = env
        self.file = tmp_path / "dispatched.jsonl"
        self.file.touch()

    def start(self, env_extra=None, gates=None, **top):
        if gates is None:
            gates = [{"name": "rec", "type": "command", "include": ["**"],
                      "exclude": ["watch.config.json"],
                      "command": ["record-files", "{files}"], "timeout_s": 60}]
        cfg = {"debounce_ms": 50, "stability_ms": 30}
        cfg.update(top)
        write_config(self.repo, gates, **cfg)
        extra = {"WATCHD_TEST_RECORD": str(self.file)}
        extra.update(env_extra or {})
        r = self.started = self.watchd("start", env_extra=extra)
        assert r.rc == 0, str(r)
        return self.status()

    def log(self):
        return (self.repo / ".watchd" / "watchd.log").read_text(errors="replace")

    def watch_runs(self):
        r = self.watchd("log", "--json", "--limit", "1000")
        assert r.rc == 0, str(r)
        return [x for x in r.json if x["trigger"] == "watch"]

    def status(self):
        r = self.watchd("status", "--json")
        assert r.rc in (0, 1), str(r)  # 1: a gate fails
        return r.json

    def sync(self, timeout=60):
        r = self.watchd("status", "--sync", "--json", "--timeout", str(timeout),
                        timeout=timeout + 30)
        assert r.rc in (0, 1), str(r)  # 1: a gate fails
        return r.json

    def records(self):
        out = []
        for line in self.file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out

    def paths(self):
        return [r["path"] for r in self.records()]

    def clear(self):
        self.file.write_text("")


@pytest.fixture
def rec(repo, watchd, env, tmp_path):
    """A Recorder on ROOT, not yet started (rec.start(**config))."""
    return Recorder(repo, watchd, env, tmp_path)


# --- the ledger harness -----------------------------------------------------

LEDGER_APP_ID = 0x57544344  # PRAGMA application_id of a watchd ledger ("WTCD")


class Root:
    """ROOT (a git repository), its environment and a `watchd --root ROOT`
    caller returning (rc, stdout, stderr, json); the daemons it starts are
    stopped, or killed, by stop()."""

    def __init__(self, path, runtime):
        self.path = path
        self.env = base_env(runtime)
        self.pids = set()
        self.db = path / ".watchd" / "ledger.db"

    def run(self, *args, env=None, timeout=60, nice=False):
        e = dict(self.env)
        e.update(env or {})
        # nice: a background reader that must not starve the daemon it reads beside
        prefix = ["nice", "-n", "10"] if nice else []
        p = subprocess.run([*prefix, str(WATCHD), "--root", str(self.path), *map(str, args)],
                           cwd=self.path, env=e, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        rep = sanitizer_report(p.stderr)
        assert rep is None, rep
        return p.returncode, p.stdout, p.stderr, _parse_json(p.stdout)

    def config(self, gates, **top):
        write_config(self.path, gates, **top)

    def start(self, env=None):
        rc, out, err, _ = self.run("start", env=env)
        assert rc == 0, (out, err)
        st = self.status()
        self.pids.add(st["pid"])
        track_daemon(st["pid"])
        return st

    def status(self):
        rc, out, err, js = self.run("status", "--json")
        assert rc in (0, 1) and isinstance(js, dict), (rc, out, err)
        return js

    def log(self, limit=100000):
        rc, out, err, js = self.run("log", "--json", "--limit", limit)
        assert rc == 0 and isinstance(js, list), (rc, out, err)
        return js

    def stop(self):
        self.run("stop", timeout=30)
        for pid in list(self.pids):
            kill_daemon(pid)
        self.pids.clear()

    def sql(self, query, args=()):
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(query, args).fetchall()
        finally:
            db.close()

    def sanitizer_free_log(self):
        log = self.path / ".watchd" / "watchd.log"
        rep = sanitizer_report(log.read_text(errors="replace") if log.exists() else "")
        assert rep is None, rep


@pytest.fixture
def root(tmp_path):
    """A Root on a fresh git repository with one (empty) commit."""
    runtime = private_runtime_dir()
    path = tmp_path / "repo"
    path.mkdir()
    for args in (["init", "-q", "-b", "main"], ["config", "user.name", "t"],
                 ["config", "user.email", "t@watchd.invalid"],
                 ["commit", "-q", "--allow-empty", "-m", "initial"]):
        git(path, *args)
    r = Root(path, runtime)
    try:
        yield r
    finally:
        r.stop()
        shutil.rmtree(runtime, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    for pid in list(_daemon_pids):
        try:
            kill_daemon(pid, timeout=5)
        except AssertionError:
            pass
