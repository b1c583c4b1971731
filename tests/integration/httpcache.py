"""Real HTTP cache servers for the remote result cache tests (and the bench).

`Nginx` is Debian's nginx in a private directory, configured as a Bazel
HTTP cache the way teams run one (WebDAV `PUT` with intermediate
directories created), on a free 127.0.0.1 port, in the foreground as one
process (`master_process off`: no orphaned worker survives a SIGKILL, and
the test reaps what it started), in its own process group. Its access
log is one JSON object per request (method, URI, status, the Authorization
header as received, start and end times), so a test sees what was SENT.
The stored entries are plain files under `root`, for a test to read, corrupt
or truncate.

`SlowServer` is a threaded Python http.server that holds every request for
`delay` seconds before answering `status` (404, a miss): the server that is
up but never answers in time. With delay 0 and status 500 it is the server
that fails at once. It records the requests it received.

Both are context managers; nothing here imports pytest.
"""
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import List, NamedTuple, Optional


def _find_nginx() -> Optional[str]:
    """$WATCHD_TEST_NGINX (a path, or "none" to run as if nginx were not
    installed), else nginx on PATH or in /usr/sbin (Debian's, not on a
    user's PATH)."""
    given = os.environ.get("WATCHD_TEST_NGINX")
    if given:
        return None if given == "none" else given
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


NGINX = _find_nginx()

# One JSON line per request. $msec is when the request ended and
# $request_time how long it took, so start = t - rt.
_LOG_FORMAT = ("'{\"t\":$msec,\"rt\":$request_time,\"method\":\"$request_method\","
               "\"uri\":\"$request_uri\",\"status\":$status,\"conn\":$connection,"
               "\"auth\":\"$http_authorization\",\"len\":$request_length,"
               "\"sent\":$body_bytes_sent}'")

_CONF = """\
{user}daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    log_format cache escape=json {log_format};
    access_log {dir}/access.log cache;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/root;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
            client_max_body_size 64m;
        }}
    }}
}}
"""


class Request(NamedTuple):
    method: str
    uri: str
    status: int
    auth: str      # the Authorization header as received ("" when none)
    start: float   # epoch seconds
    end: float
    conn: int      # nginx's connection serial number


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("HEAD", "/")
        c.getresponse().read()
        c.close()
        return True
    except OSError:
        return False


def _wait(predicate, timeout: float, what: str, interval=0.02):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Nginx:
    """nginx serving `root` at `url` (http://127.0.0.1:PORT/PREFIX)."""

    def __init__(self, workdir, prefix="cache"):
        if NGINX is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        self.dir = Path(workdir).resolve()
        self.prefix = prefix.strip("/")
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    # --- life cycle --------------------------------------------------------

    def start(self, attempts=5) -> "Nginx":
        (self.dir / "root").mkdir(parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(exist_ok=True)
        # the port is free when asked, but another process may take it before
        # nginx binds it: try again on a fresh one
        for _ in range(attempts):
            self.port = free_port()
            self._write_conf()
            (self.dir / "access.log").touch()
            with open(self.dir / "stderr.log", "ab") as err:
                # -e: the error log before the config is read (else nginx
                # opens /var/log/nginx/error.log); -p: relative paths
                self.proc = subprocess.Popen(
                    [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                     "-e", str(self.dir / "error.log")],
                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                    start_new_session=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if _answers(self.port):
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            self.kill()
            if "Address already in use" not in self.errors():
                break
        raise AssertionError(f"nginx did not start:\n{self.errors()[-3000:]}")

    def _write_conf(self):
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(_CONF.format(
            user=user, dir=self.dir, port=self.port, log_format=_LOG_FORMAT))

    def kill(self):
        """SIGKILL to the server; returns once the port no longer answers."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        _wait(lambda: not _answers(self.port), 30, f"port {self.port} to close")
        self.proc = None

    @property
    def pgid(self) -> int:
        """The server's process group (for a gate that kills the server
        itself: `kill -9 -PGID`)."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()

    # --- what a test looks at -----------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.prefix}"

    @property
    def root(self) -> Path:
        """The directory `url` maps to: entries are root/ac/HEX, root/cas/HEX."""
        return self.dir / "root" / self.prefix

    def entries(self, kind="ac") -> List[Path]:
        d = self.root / kind
        return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []

    def stored_files(self) -> List[Path]:
        """Every file under the served root (PUT temporaries excluded)."""
        top = self.dir / "root"
        return sorted(p for p in top.rglob("*") if p.is_file())

    def errors(self) -> str:
        out = ""
        for name in ("stderr.log", "error.log"):
            p = self.dir / name
            if p.exists():
                out += p.read_text(errors="replace")
        return out

    def requests(self) -> List[Request]:
        """The access log so far, oldest first. nginx writes a line when the
        request ends, unbuffered (no `buffer=`), so this is up to date once
        the client has its answer."""
        out = []
        p = self.dir / "access.log"
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            end = float(d["t"])
            out.append(Request(d["method"], d["uri"], int(d["status"]), d["auth"],
                               end - float(d["rt"]), end, int(d["conn"])))
        return out

    def cache_requests(self, method=None) -> List[Request]:
        """The requests to <url>/ac/ and <url>/cas/ (not the fixture's own
        readiness probes), optionally of one method."""
        pre = f"/{self.prefix}/"
        return [r for r in self.requests()
                if r.uri.startswith((pre + "ac/", pre + "cas/"))
                and (method is None or r.method == method)]

    def counts(self):
        """{method: number of cache requests}."""
        c = {}
        for r in self.cache_requests():
            c[r.method] = c.get(r.method, 0) + 1
        return c

    def mark(self) -> int:
        """The number of log lines so far: requests(since=mark) later gives
        only what came after."""
        return len(self.requests())

    def since(self, mark: int, method=None) -> List[Request]:
        pre = f"/{self.prefix}/"
        return [r for r in self.requests()[mark:]
                if r.uri.startswith((pre + "ac/", pre + "cas/"))
                and (method is None or r.method == method)]

    # --- a plain client, to check the server itself ---------------------------

    def http(self, method, path, body=None, headers=None):
        """(status, body) of one request to url + path."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, f"/{self.prefix}/{path.lstrip('/')}", body=body,
                      headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()


def max_concurrency(reqs: List[Request]) -> int:
    """The largest number of requests in flight at once, from their start and
    end times (nginx logs milliseconds: requests that only touch at a
    millisecond boundary do not count as overlapping)."""
    ev = []
    for r in reqs:
        ev.append((round(r.start, 3), 1))
        ev.append((round(r.end, 3), -1))
    ev.sort(key=lambda e: (e[0], e[1]))  # ends before starts at equal times
    cur = best = 0
    for _, d in ev:
        cur += d
        best = max(best, cur)
    return best


def max_open_connections(reqs: List[Request]) -> int:
    """The largest number of client connections busy at once, a connection
    being busy from its first request's start to its last one's end. On
    loopback a request often takes under nginx's 1 ms resolution, so this
    (not max_concurrency) is what shows a client working in parallel: one
    that asks in sequence reuses one keep-alive connection."""
    spans = {}
    for r in reqs:
        a, b = spans.get(r.conn, (r.start, r.end))
        spans[r.conn] = (min(a, r.start), max(b, r.end))
    ev = sorted([(round(a, 3), 0) for a, _ in spans.values()] +
                [(round(b, 3), 1) for _, b in spans.values()])  # starts first at a tie
    cur = best = 0
    for _, kind in ev:
        cur += -1 if kind else 1
        best = max(best, cur)
    return best


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _slow(self):
        srv = self.server
        with srv.lock:
            srv.received.append((self.command, self.path,
                                 self.headers.get("Authorization", "")))
        # held until the delay passes or the server closes, whichever first
        srv.closing.wait(srv.delay)
        if srv.closing.is_set():
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(srv.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_PUT = _slow

    def log_message(self, *args):
        pass


class SlowServer:
    """A server that accepts at once and answers each request (`status`,
    body empty) only after `delay` seconds."""

    def __init__(self, delay=30.0, prefix="cache", status=404):
        self.delay = delay
        self.status = status
        self.prefix = prefix
        self.httpd = None
        self.thread = None

    def start(self) -> "SlowServer":
        h = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
        h.daemon_threads = True
        h.delay = self.delay
        h.status = self.status
        h.lock = threading.Lock()
        h.received = []
        h.closing = threading.Event()
        self.httpd = h
        self.thread = threading.Thread(target=h.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is None:
            return
        self.httpd.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
        self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.prefix}"

    @property
    def received(self):
        """[(method, path, authorization)] of every request so far."""
        with self.httpd.lock:
            return list(self.httpd.received)
