#!/usr/bin/python3
"""Watcher benchmark: watchd against inotifywait -r and Watchman, one run.

Every tool gets its own fresh copy of the same generated tree (gentree.py)
in a temporary directory under /tmp, runs alone, and is observed the same
way: the harness makes changes and records when the tool reports each path.
See README.md in this directory for what each number means.

    bench_watch.py --watchd ./watchd [--files N --dirs M] [--out build/bench/watch.json]
"""
import argparse
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gentree  # noqa: E402

MONO = time.monotonic
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROBE = "bench_probe.txt"
DEBOUNCE_MS = 20

REPORTER_C = r"""
/* bench reporter: one line "CLOCK_MONOTONIC-ns path" per argument, written
 * to the FIFO argv[1] in whole lines of at most PIPE_BUF bytes, so lines of
 * reporters running in parallel never interleave. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec ts;
	char buf[PIPE_BUF], line[PIPE_BUF];
	size_t len = 0;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (argc < 2 || (fd = open(argv[1], O_WRONLY | O_CLOEXEC)) < 0)
		return 2;
	for (int i = 2; i < argc; i++) {
		int n = snprintf(line, sizeof(line), "%lld %s\n",
		    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, argv[i]);
		if (n < 0 || n >= (int)sizeof(line))
			continue;
		if (len + (size_t)n > sizeof(buf)) {
			if (write(fd, buf, len) != (ssize_t)len)
				return 3;
			len = 0;
		}
		memcpy(buf + len, line, (size_t)n);
		len += (size_t)n;
	}
	if (len && write(fd, buf, len) != (ssize_t)len)
		return 3;
	return 0;
}
"""

REPORTER_PY = r"""import os, sys, time
t = time.monotonic_ns()
fd = os.open(%r, os.O_WRONLY)
buf = b""
for p in sys.argv[1:]:
    line = ("%%d %%s\n" %% (t, p)).encode()
    if len(buf) + len(line) > 4096:
        os.write(fd, buf)
        buf = b""
    buf += line
if buf:
    os.write(fd, buf)
"""


def log(*a):
    print("[%s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


# ---- /proc ----------------------------------------------------------------

def proc_status(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])  # kB
    except OSError:
        return None
    return None


def proc_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])  # utime + stime
    except OSError:
        return None


def machine_info():
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = model
    info["cores"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        info["ram_gib"] = round(kb / 1048576, 1)
    except (OSError, ValueError, IndexError):
        info["ram_gib"] = None
    u = os.uname()
    info["kernel"] = "%s %s %s" % (u.sysname, u.release, u.machine)
    best, fstype = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                mnt = parts[1]
                if ("/tmp/" + "x").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best):
                    best, fstype = mnt, parts[2]
    except OSError:
        pass
    info["tmp_fs"] = "%s (mounted at %s)" % (fstype, best)
    try:
        with open("/proc/sys/fs/inotify/max_queued_events") as f:
            info["inotify_max_queued_events"] = int(f.read())
        with open("/proc/sys/fs/inotify/max_user_watches") as f:
            info["inotify_max_user_watches"] = int(f.read())
    except OSError:
        pass
    for tool, argv in (("inotifywait", ["inotifywait", "--help"]),
                       ("watchman", ["watchman", "--version"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            text = (out.stdout + out.stderr).strip().splitlines()
            info[tool + "_version"] = text[0] if text else "?"
        except (OSError, subprocess.TimeoutExpired):
            info[tool + "_version"] = "missing"
    return info


# ---- report stream --------------------------------------------------------

class Reports:
    """Every (time, path) a tool reported, in arrival order."""

    def __init__(self):
        self.cond = threading.Condition()
        self.items = []          # (t_report, rel_path, fresh)
        self.last_arrival = 0.0
        self.notes = []

    def add(self, t, paths, fresh=False):
        now = MONO()
        with self.cond:
            for p in paths:
                self.items.append((t, p, fresh))
            self.last_arrival = now
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.items)

    def wait_path(self, path, start, timeout, fresh_ok=False):
        """Time of the first report of path at index >= start, or None."""
        deadline = MONO() + timeout
        i = start
        with self.cond:
            while True:
                items = self.items
                while i < len(items):
                    t, p, fresh = items[i]
                    i += 1
                    if p == path and (fresh_ok or not fresh):
                        return t
                left = deadline - MONO()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_quiet(self, start, since, quiet, maximum):
        """Waits until nothing arrived for `quiet` s (counted from `since` or
        the last arrival), at most `maximum` s. Returns {path: first time}."""
        deadline = since + maximum
        with self.cond:
            while True:
                now = MONO()
                ref = max(since, self.last_arrival)
                if now - ref >= quiet or now >= deadline:
                    break
                self.cond.wait(min(ref + quiet, deadline) - now + 0.01)
            got = {}
            for t, p, _ in self.items[start:]:
                if p not in got:
                    got[p] = t
            return got


# ---- tools ----------------------------------------------------------------

class Tool:
    name = "?"

    def __init__(self, work, tree, logdir):
        self.work = work
        self.tree = tree
        self.logdir = logdir
        self.rep = Reports()
        self.t_start = None
        self.procs = []
        self.threads = []

    def rel(self, path):
        if path.startswith(self.tree + "/"):
            return path[len(self.tree) + 1:]
        return path

    def thread(self, fn, *a):
        th = threading.Thread(target=fn, args=a, daemon=True)
        th.start()
        self.threads.append(th)

    def cpu_pids(self):
        return [self.procs[0].pid]

    def mem_pid(self):
        return self.procs[0].pid

    def alive(self):
        return all(p.poll() is None for p in self.procs)

    def ticks(self):
        vals = [proc_ticks(p) for p in self.cpu_pids()]
        return None if any(v is None for v in vals) else sum(vals)

    def overflows(self):
        """How many times the tool has reported losing events so far (its
        own log), or None where it cannot tell."""
        return None

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def save_logs(self, tag):
        pass


class Inotifywait(Tool):
    name = "inotifywait"

    def start(self):
        self.t_start = MONO()
        self.err = open(os.path.join(self.work, "inotifywait.err"), "wb")
        p = subprocess.Popen(["inotifywait", "-m", "-r", "-q", "--format", "%w%f %e", self.tree],
                             stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        self.thread(self.reader, p.stdout)

    def reader(self, f):
        for line in f:
            t = MONO()
            line = line.decode("utf-8", "replace").rstrip("\n")
            path, _, ev = line.rpartition(" ")
            if not path:
                self.rep.notes.append(line)
                continue
            if "OVERFLOW" in ev and len(self.rep.notes) < 20:
                self.rep.notes.append("event: " + line)
            self.rep.add(t, [self.rel(path)])

    def stop(self):
        self.kill_all()
        self.err.close()

    def save_logs(self, tag):
        shutil.copy(os.path.join(self.work, "inotifywait.err"),
                    os.path.join(self.logdir, "%s-%s.log" % (self.name, tag)))


class Watchman(Tool):
    name = "watchman"

    def wm(self, *args, **kw):
        return subprocess.run(["watchman", "--sockname=" + self.sock, "--no-spawn",
                               "--no-pretty"] + list(args),
                              capture_output=True, text=True, timeout=kw.get("timeout", 300))

    def start(self):
        st = os.path.join(self.work, "watchman")
        os.makedirs(st, exist_ok=True)
        self.sock = os.path.join(st, "sock")
        self.logfile = os.path.join(st, "log")
        self.t_start = MONO()
        self.err = open(os.path.join(st, "server.out"), "wb")
        srv = subprocess.Popen(["watchman", "--foreground", "--sockname=" + self.sock,
                                "--logfile=" + self.logfile,
                                "--statefile=" + os.path.join(st, "state"),
                                "--pidfile=" + os.path.join(st, "pid"), "--no-save-state"],
                               stdout=self.err, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, cwd=st)
        self.procs.append(srv)
        deadline = MONO() + 30
        while True:
            r = self.wm("get-pid", timeout=10)
            if r.returncode == 0:
                break
            if MONO() > deadline or srv.poll() is not None:
                raise RuntimeError("watchman server did not come up: " + r.stderr)
            time.sleep(0.01)
        r = self.wm("watch-project", self.tree)
        if r.returncode != 0:
            raise RuntimeError("watch-project: " + r.stdout + r.stderr)
        wp = json.loads(r.stdout)
        self.root = wp["watch"]
        self.relprefix = wp.get("relative_path", "")
        # fields name only; fresh-instance results (initial list, recrawls)
        # are kept but flagged, so they never count as a latency/ready report
        sub = ["subscribe", self.root, "bench", {"fields": ["name"], "defer_vcs": False}]
        self.cli = subprocess.Popen(["stdbuf", "-oL", "watchman", "--sockname=" + self.sock, "--no-spawn", "-j",
                                     "--server-encoding=json", "--output-encoding=json",
                                     "--no-pretty", "--persistent"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=self.err)
        self.cli.stdin.write(json.dumps(sub).encode() + b"\n")
        self.cli.stdin.close()
        self.procs.append(self.cli)
        self.thread(self.reader, self.cli.stdout)

    def reader(self, f):
        for line in f:
            t = MONO()
            try:
                pdu = json.loads(line)
            except ValueError:
                self.rep.notes.append("bad pdu: %r" % line[:200])
                continue
            if "warning" in pdu and len(self.rep.notes) < 20:
                self.rep.notes.append("warning: " + str(pdu["warning"])[:300])
            if "files" in pdu:
                fresh = bool(pdu.get("is_fresh_instance"))
                files = pdu["files"]
                if self.relprefix:
                    files = [self.relprefix + "/" + x for x in files]
                self.rep.add(t, files, fresh)
                if fresh and len(self.rep.notes) < 20:
                    self.rep.notes.append("fresh instance result with %d names" % len(files))

    def stop(self):
        try:
            self.wm("shutdown-server", timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.procs[0].wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        self.kill_all()
        self.err.close()

    def save_logs(self, tag):
        shutil.copy(self.logfile, os.path.join(self.logdir, "%s-%s.log" % (self.name, tag)))

    def overflows(self):
        # inotify.cpp: "IN_Q_OVERFLOW" then a recrawl
        try:
            with open(self.logfile, "rb") as f:
                return sum(1 for line in f if b"IN_Q_OVERFLOW" in line or
                           b"inotify queue overflow" in line.lower())
        except OSError:
            return None


class Watchd(Tool):
    name = "watchd"

    def __init__(self, work, tree, logdir, binary, reporter="c", debounce_ms=DEBOUNCE_MS,
                 without=None):
        super().__init__(work, tree, logdir)
        self.binary = binary
        self.reporter = reporter
        self.debounce_ms = debounce_ms
        self.without = without  # a speed-up to turn off (WATCHD_BENCH_WITHOUT)
        if reporter == "py":
            self.name = "watchd-py"
        if without:
            self.name = "watchd-without-" + without

    def start(self):
        fifo = os.path.join(self.work, "reports.fifo")
        if not os.path.exists(fifo):
            os.mkfifo(fifo, 0o600)
        if self.reporter == "c":
            src = os.path.join(self.work, "reporter.c")
            exe = os.path.join(self.work, "reporter")
            if not os.path.exists(exe):
                with open(src, "w") as f:
                    f.write(REPORTER_C)
                subprocess.run(["cc", "-O2", "-o", exe, src], check=True)
            command = [exe, fifo, "{files}"]
        else:
            script = os.path.join(self.work, "reporter.py")
            with open(script, "w") as f:
                f.write(REPORTER_PY % fifo)
            command = ["/usr/bin/python3", script, "{files}"]
        cfg = {"version": 1, "debounce_ms": self.debounce_ms, "stability_ms": 0,
               "gates": [{"name": "report", "type": "command", "include": ["**"],
                          "command": command, "timeout_s": 60}]}
        with open(os.path.join(self.tree, "watch.config.json"), "w") as f:
            json.dump(cfg, f)
        xdg = os.path.join(self.work, "xdg")
        os.makedirs(xdg, mode=0o700, exist_ok=True)
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg)
        env.pop("WATCHD_BENCH_WITHOUT", None)
        # one "stage NAME N files US us" line per stage of each batch, for
        # the burst's stage breakdown (a flag test per stage otherwise)
        env["WATCHD_BENCH_STAGES"] = "1"
        if self.without:
            env["WATCHD_BENCH_WITHOUT"] = self.without
        # O_RDWR: never EOF, and a reporter's open() never blocks
        self.fifo_fd = os.open(fifo, os.O_RDWR)
        self.thread(self.reader, self.fifo_fd)
        self.errpath = os.path.join(self.work, "watchd.err")
        self.err = open(self.errpath, "wb")
        self.t_start = MONO()
        self.t_start_wall = time.time()
        p = subprocess.Popen([self.binary, "--root", self.tree, "start", "--foreground"],
                             stdout=self.err, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env)
        self.procs.append(p)

    def watching_s(self, timeout=5.0):
        """Seconds from process start to the daemon's "watching" log line
        (what `watchd start` waits for), from the line's own millisecond
        timestamp: not rounded to the probe's 25 ms like ready."""
        deadline = MONO() + timeout
        while MONO() < deadline:
            try:
                with open(self.errpath, "rb") as f:
                    for line in f:
                        if b" watching " not in line:
                            continue
                        stamp = line.split(b" ", 1)[0].decode()
                        t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
                        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
                        return t - self.t_start_wall
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        return None

    def stages(self, since, until):
        """{stage: [total us, lines, files]} of the stage lines the daemon
        logged with a wall-clock stamp in [since, until] (time.time())."""
        out = {}
        try:
            with open(self.errpath, "rb") as f:
                for line in f:
                    if b" stage " not in line:
                        continue
                    parts = line.decode("utf-8", "replace").split()
                    try:
                        t = datetime.datetime.strptime(parts[0], "%Y-%m-%dT%H:%M:%S.%fZ")
                        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
                        k = parts.index("stage")
                        name, n, us = parts[k + 1], int(parts[k + 2]), int(parts[k + 4])
                    except (ValueError, IndexError):
                        continue
                    if since <= t <= until:
                        v = out.setdefault(name, [0, 0, 0])
                        v[0] += us
                        v[1] += 1
                        v[2] += n
        except OSError:
            pass
        return out

    def overflows(self):
        try:
            with open(self.errpath, "rb") as f:
                return sum(1 for line in f if b"inotify queue overflow" in line)
        except OSError:
            return None

    def queue_peak(self):
        """The most events the inotify reader found waiting in the kernel
        queue over the daemon's life (logged as it stops), or None."""
        try:
            with open(self.errpath, "rb") as f:
                for line in f:
                    if b" events waited in the kernel queue" in line:
                        return int(line.split(b"at most ")[1].split()[0])
        except (OSError, IndexError, ValueError):
            pass
        return None

    def stalls(self, since, until):
        """The loop turns of 1 ms or more the daemon logged ("loop busy N us")
        with a wall-clock stamp in [since, until], in us."""
        out = []
        try:
            with open(self.errpath, "rb") as f:
                for line in f:
                    if b" loop busy " not in line:
                        continue
                    parts = line.decode("utf-8", "replace").split()
                    try:
                        t = datetime.datetime.strptime(parts[0], "%Y-%m-%dT%H:%M:%S.%fZ")
                        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
                        us = int(parts[parts.index("busy") + 1])
                    except (ValueError, IndexError):
                        continue
                    if since <= t <= until:
                        out.append(us)
        except OSError:
            pass
        return out

    def reader(self, fd):
        buf = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            batch_t, batch = None, []
            for line in lines:
                ns, _, path = line.decode("utf-8", "replace").partition(" ")
                try:
                    t = int(ns) / 1e9
                except ValueError:
                    self.rep.notes.append("bad line %r" % line[:200])
                    continue
                if batch_t is not None and t != batch_t:
                    self.rep.add(batch_t, batch)
                    batch = []
                batch_t = t
                batch.append(self.rel(path) if path.startswith("/") else path)
            if batch:
                self.rep.add(batch_t, batch)

    def stop(self):
        p = self.procs[0]
        self.exit_code = p.poll()
        if self.exit_code is None:
            p.send_signal(signal.SIGTERM)
            try:
                self.exit_code = p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.rep.notes.append("did not exit within 15 s of SIGTERM; killed")
                self.kill_all()
                self.exit_code = "killed"
        else:
            self.rep.notes.append("exited on its own with status %s before stop" % self.exit_code)
        self.err.close()
        try:
            os.close(self.fifo_fd)
        except OSError:
            pass

    def save_logs(self, tag):
        out = os.path.join(self.logdir, "%s-%s.log" % (self.name, tag))
        shutil.copy(self.errpath, out)
        extra = os.path.join(self.tree, ".watchd", "watchd.log")
        if os.path.exists(extra):
            with open(out, "ab") as o, open(extra, "rb") as i:
                o.write(b"\n---- .watchd/watchd.log ----\n")
                o.write(i.read())


# ---- tests ----------------------------------------------------------------

def write_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)


def wait_ready(tool, timeout):
    """Start the tool, rewrite PROBE every 25 ms until a report of it arrives.
    Returns seconds from process start, or None."""
    tool.start()
    probe = os.path.join(tool.tree, PROBE)
    deadline = tool.t_start + timeout
    n = 0
    while MONO() < deadline:
        write_file(probe, b"probe %d\n" % n)
        n += 1
        t = tool.rep.wait_path(PROBE, 0, 0.025)
        if t is not None:
            return t - tool.t_start
        if not tool.alive():
            return None
    return None


def test_idle(tool, seconds):
    time.sleep(1.0)  # let the last probe reports drain
    a = tool.ticks()
    time.sleep(seconds)
    b = tool.ticks()
    return None if a is None or b is None else b - a


def pct(vals, q):
    if not vals:
        return None
    s = sorted(vals)
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def test_latency(tool, files, n, seed, gap=0.03):
    rng = random.Random(seed)
    picks = rng.sample(files, min(n, len(files)))
    lat, lost, run, aborted = [], 0, 0, False
    for i, rel in enumerate(picks):
        start = tool.rep.mark()
        t0 = MONO()
        write_file(os.path.join(tool.tree, rel), b"latency write %d\n" % i)
        t = tool.rep.wait_path(rel, start, 5.0)
        if t is None:
            lost += 1
            run += 1
            if run >= 5 or not tool.alive():  # it stopped reporting: do not wait 5 s x 200
                lost += len(picks) - i - 1
                aborted = True
                break
        else:
            run = 0
            lat.append((t - t0) * 1000.0)
        time.sleep(gap)
    return {"n": len(picks), "lost": lost, "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99),
            "max_ms": max(lat) if lat else None, "aborted": aborted}


def settle_result(tool, start, t0, t_end, truth, quiet, maximum):
    got = tool.rep.wait_quiet(start, t_end, quiet, maximum)
    lost = [p for p in truth if p not in got]
    times = [got[p] for p in truth if p in got]
    return {"written": len(truth), "lost": len(lost), "lost_sample": sorted(lost)[:10],
            "write_s": round(t_end - t0, 3),
            "all_reported_s": round(max(times) - t0, 3) if times and not lost else None,
            "last_reported_s": round(max(times) - t0, 3) if times else None,
            "drain_s": round(max(0.0, max(times) - t_end), 3) if times else None,
            "alive": tool.alive()}


def test_burst(tool, dirs, n, seed, quiet, maximum):
    rng = random.Random(seed)
    truth = []
    for i in range(n):
        d = rng.choice(dirs)
        truth.append((d + "/" if d else "") + "burst%05d.txt" % i)
    start = tool.rep.mark()
    t0 = MONO()
    for rel in truth:
        write_file(os.path.join(tool.tree, rel), b"burst %s\n" % rel.encode())
    t_end = MONO()
    return settle_result(tool, start, t0, t_end, truth, quiet, maximum)


def test_rewrite_burst(tool, files, dirs, n, newdir_files, seed, quiet, maximum):
    """A formatter or a branch switch: n existing files rewritten as fast as
    possible, then a new directory with newdir_files files. Reports the
    drain (last report - last write) and, for watchd, the stage lines it
    logged during the burst and after the last write."""
    rng = random.Random(seed)
    picks = rng.sample(files, min(n, len(files)))
    nd = "rewrite_new%d" % seed
    truth = list(picks) + ["%s/f%04d.txt" % (nd, i) for i in range(newdir_files)]
    start = tool.rep.mark()
    wall0 = time.time() - MONO()  # wall = mono + wall0
    ticks0 = tool.ticks()
    t0 = MONO()
    for rel in picks:
        write_file(os.path.join(tool.tree, rel), b"rewrite %d %s\n" % (seed, rel.encode()))
    os.mkdir(os.path.join(tool.tree, nd))
    for rel in truth[len(picks):]:
        write_file(os.path.join(tool.tree, rel), b"new\n")
    t_end = MONO()
    res = settle_result(tool, start, t0, t_end, truth, quiet, maximum)
    res["cpu_ms"] = cpu_ms(ticks0, tool.ticks())
    if isinstance(tool, Watchd):
        last = t_end + (res["drain_s"] or 0)
        res["stages_burst"] = tool.stages(t0 + wall0 - 0.001, last + wall0 + 0.001)
        res["stages_tail"] = tool.stages(t_end + wall0, last + wall0 + 0.001)
        res["stalls_us"] = tool.stalls(t0 + wall0 - 0.001, last + wall0 + 0.001)
    return res


def test_age(tool, files, n, seed):
    """n sequential single-file writes, each waiting for its report: for
    watchd, n recorded runs (what a day of edits leaves in the ledger)."""
    t0 = MONO()
    res = test_latency(tool, files, n, seed, gap=0.0)
    res["s"] = round(MONO() - t0, 2)
    return res


def rewrite_series(tool, files, dirs, args, seed0):
    reps = [test_rewrite_burst(tool, files, dirs, args.rewrite, args.rewrite_newdir,
                               seed0 + i, min(args.quiet, 1.5), 60)
            for i in range(args.burst_reps)]
    drains = [r["drain_s"] for r in reps if r["drain_s"] is not None and not r["lost"]]
    cpu = [r["cpu_ms"] for r in reps]
    return {"reps": reps, "drain_s": median(drains), "drain_all": [r["drain_s"] for r in reps],
            "lost": sum(r["lost"] for r in reps),
            "cpu_ms": None if None in cpu else sum(cpu)}


def test_newdir(tool, dirs, per_dir, rounds, seed, quiet, maximum):
    rng = random.Random(seed)
    truth = []
    start = tool.rep.mark()
    t0 = MONO()
    for r in range(rounds):
        parent = rng.choice(dirs)
        nd = (parent + "/" if parent else "") + "race%d" % r
        os.mkdir(os.path.join(tool.tree, nd))
        for i in range(per_dir):
            rel = "%s/n%04d.txt" % (nd, i)
            write_file(os.path.join(tool.tree, rel), b"new %d\n" % i)
            truth.append(rel)
        sub = nd + "/sub"
        os.mkdir(os.path.join(tool.tree, sub))
        for i in range(per_dir):
            rel = "%s/s%04d.txt" % (sub, i)
            write_file(os.path.join(tool.tree, rel), b"nested %d\n" % i)
            truth.append(rel)
    t_end = MONO()
    return settle_result(tool, start, t0, t_end, truth, quiet, maximum)


def test_frozen(tool, dirs, n, seed, quiet, maximum):
    rng = random.Random(seed)
    truth = []
    for i in range(n):
        d = rng.choice(dirs)
        truth.append((d + "/" if d else "") + "frozen%05d.txt" % i)
    pids = tool.cpu_pids()
    start = tool.rep.mark()
    ticks0 = tool.ticks()
    over0 = tool.overflows()
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    t0 = MONO()
    try:
        for rel in truth:
            write_file(os.path.join(tool.tree, rel), b"frozen %s\n" % rel.encode())
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    t_end = MONO()
    return overflow_result(tool, start, t0, t_end, truth, quiet, maximum, ticks0, over0)


def overflow_result(tool, start, t0, t_end, truth, quiet, maximum, ticks0, over0):
    """settle_result, plus the daemon's CPU and the overflows it logged
    since ticks0/over0, and every distinct path reported since start."""
    res = settle_result(tool, start, t0, t_end, truth, quiet, maximum)
    res["cpu_ms"] = cpu_ms(ticks0, tool.ticks())
    res["overflows"] = overflow_delta(over0, tool.overflows())
    res["reported_total"] = len(tool.rep.wait_quiet(start, t_end, 0, 0))
    return res


def test_fullspeed(tool, files, n, seed, quiet, maximum):
    """n existing files rewritten in place as fast as one writer can (open
    without O_TRUNC, write the first bytes, close: IN_MODIFY and
    IN_CLOSE_WRITE per file, some 130,000 events a second here), the tool
    running with a small max_queued_events: whether it overflowed, and
    when the last path was reported. Not O_TRUNC rewrites or unlink and
    create: on ext4 those cost the writer 0.3-0.7 ms a file (a truncated
    file is flushed at close, auto_da_alloc; freed blocks are journalled),
    and at that pace no queue fills."""
    rng = random.Random(seed)
    truth = rng.sample(files, min(n, len(files)))
    start = tool.rep.mark()
    wall0 = time.time() - MONO()
    ticks0 = tool.ticks()
    over0 = tool.overflows()
    t0 = MONO()
    for rel in truth:
        fd = os.open(os.path.join(tool.tree, rel), os.O_WRONLY)
        # unique per file: two files with one content are one blob, and
        # watchd's cache would rightly run the gate on only one of them
        os.write(fd, b"// %s %d\n" % (rel.encode(), seed))
        os.close(fd)
    t_end = MONO()
    res = overflow_result(tool, start, t0, t_end, truth, quiet, maximum, ticks0, over0)
    if isinstance(tool, Watchd):
        last = t_end + (res["drain_s"] or 0)
        res["stalls_us"] = tool.stalls(t0 + wall0 - 0.001, last + wall0 + 0.001)
    return res


def cpu_ms(a, b):
    return None if a is None or b is None else (b - a) * 1000.0 / CLK_TCK


def overflow_delta(a, b):
    return None if a is None or b is None else b - a


# ---- driver ---------------------------------------------------------------

def make_tool(kind, work, tree, logdir, args):
    if kind == "inotifywait":
        return Inotifywait(work, tree, logdir)
    if kind == "watchman":
        return Watchman(work, tree, logdir)
    if kind == "watchd":
        return Watchd(work, tree, logdir, args.watchd, "c")
    if kind == "watchd-py":
        return Watchd(work, tree, logdir, args.watchd, "py")
    if kind == "watchd-base":
        t = Watchd(work, tree, logdir, args.base_watchd, "c")
        t.name = "watchd-base"
        return t
    if kind.startswith("watchd-without-"):
        return Watchd(work, tree, logdir, args.watchd, "c",
                      without=kind[len("watchd-without-"):])
    raise ValueError(kind)


def make_git_tree(root):
    """git init with a two-rule .gitignore (matching nothing generated), so
    every directory is looked up and none is skipped."""
    with open(os.path.join(root, ".gitignore"), "w") as f:
        f.write("*.log\nbuild/\n")
    subprocess.run(["git", "init", "-q", root], check=True)


def copy_tree(master, dest):
    subprocess.run(["cp", "-a", master, dest], check=True)


QUEUE_KNOB = "/proc/sys/fs/inotify/max_queued_events"


class SmallQueue:
    """max_queued_events = n while the tool makes its inotify instance (the
    kernel reads the knob at inotify_init), restored as soon as it is ready
    so nothing else on the machine gets the small queue for longer."""

    def __init__(self, n):
        self.n = n
        self.old = None

    def __enter__(self):
        with open(QUEUE_KNOB) as f:
            self.old = f.read()
        with open(QUEUE_KNOB, "w") as f:
            f.write("%d\n" % self.n)
        return self

    def restore(self):
        if self.old is not None:
            with open(QUEUE_KNOB, "w") as f:
                f.write(self.old)
            self.old = None

    def __exit__(self, *exc):
        self.restore()


def session(kind, master, tag, full, layout, args, tmp, logdir):
    """One tool on one fresh copy. Returns its metrics."""
    work = tempfile.mkdtemp(prefix="%s-%s-" % (kind, tag), dir=tmp)
    tree = os.path.join(work, "tree")
    res = {}
    tool = None
    try:
        copy_tree(master, tree)
        os.sync()  # no writeback of the copy left to compete with the tests
        tree = os.path.realpath(tree)
        tool = make_tool(kind, work, tree, logdir, args)
        dirs, files = layout
        log("%s on %s tree: starting" % (kind, tag))
        if full == "fullspeed":
            with SmallQueue(args.fullspeed_queue):
                ready = wait_ready(tool, args.ready_timeout)
        else:
            ready = wait_ready(tool, args.ready_timeout)
        res["ready_s"] = ready
        if ready is None:
            res["error"] = "not ready within %d s (alive=%s)" % (args.ready_timeout, tool.alive())
            log("  " + res["error"])
            return res
        if isinstance(tool, Watchd):
            res["watching_s"] = tool.watching_s()
        res["rss_kib"] = proc_status(tool.mem_pid(), "VmRSS")
        res["rss_anon_kib"] = proc_status(tool.mem_pid(), "RssAnon")
        log("  ready %.3f s, RSS %s KiB" % (ready, res["rss_kib"]))
        if full == "fullspeed":
            res["fullspeed"] = test_fullspeed(tool, files, args.fullspeed, 11, args.quiet, 120)
            log("  full speed, queue %d:" % args.fullspeed_queue,
                {k: v for k, v in res["fullspeed"].items() if k != "stalls_us"})
        elif full == "latency":
            res["latency"] = test_latency(tool, files, args.lat_n, 2)
            log("  latency", res["latency"])
        elif full == "bursts":
            res["rewrite_fresh"] = rewrite_series(tool, files, dirs, args, 100)
            log("  rewrite burst: drain", res["rewrite_fresh"]["drain_all"],
                "cpu ms", res["rewrite_fresh"]["cpu_ms"])
        elif full == "age":
            # the same burst on a fresh daemon, then on one that has
            # recorded args.age_runs runs since
            res["rewrite_fresh"] = rewrite_series(tool, files, dirs, args, 100)
            log("  rewrite burst, fresh: drain", res["rewrite_fresh"]["drain_all"])
            res["age"] = test_age(tool, files, args.age_runs, 7)
            log("  aged by %d writes in %s s" % (args.age_runs, res["age"]["s"]))
            res["rewrite_aged"] = rewrite_series(tool, files, dirs, args, 200)
            log("  rewrite burst, aged: drain", res["rewrite_aged"]["drain_all"])
        elif full:
            res["idle_ticks"] = test_idle(tool, args.idle_s)
            log("  idle ticks over %g s: %s" % (args.idle_s, res["idle_ticks"]))
            res["latency"] = test_latency(tool, files, args.lat_n, 2)
            log("  latency", res["latency"])
            res["burst"] = test_burst(tool, [""] + dirs, args.burst, 3, args.quiet, 60)
            log("  burst", res["burst"])
            res["newdir"] = test_newdir(tool, [""] + dirs, args.race_files, args.race_rounds,
                                        4, args.quiet, 60)
            log("  newdir", res["newdir"])
            if args.frozen:
                res["frozen"] = test_frozen(tool, [""] + dirs, args.frozen, 5, args.quiet, 120)
                log("  frozen", res["frozen"])
        res["hwm_kib"] = proc_status(tool.mem_pid(), "VmHWM")
        res["alive_at_end"] = tool.alive()
    except Exception as e:  # keep going with the other tools
        res["error"] = "%s: %s" % (type(e).__name__, e)
        log("  error:", res["error"])
    finally:
        if tool is not None:
            try:
                tool.stop()
            except Exception as e:
                res.setdefault("error", "stop: %s" % e)
            if getattr(tool, "exit_code", None) not in (None, 0):
                res["exit_code"] = tool.exit_code
            if isinstance(res.get("fullspeed"), dict) and isinstance(tool, Watchd):
                res["fullspeed"]["queue_peak"] = tool.queue_peak()
            res["notes"] = [" ".join(n.replace(tmp, "TMP").split()) for n in tool.rep.notes[:20]]
            try:
                tool.save_logs(tag)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)
        os.sync()
    return res


# Each speed-up that makes the code harder to read must buy something a user
# notices. Each is timed on and off (WATCHD_BENCH_WITHOUT=NAME), alternating
# which goes first, on the tree where it acts, in the same run.
#   name, what it is, tree tag, test ("watching", "latency", "bursts": the
#   daemon's CPU over one series of rewrite bursts, or "tail": their median
#   time from the last write to the last report)
SPEEDUPS = [
    ("ledger-thread", "the ledger opens on a thread during the initial scan",
     "small", "watching"),
    ("getdents", "directories listed with getdents64 into one buffer (not readdir)",
     "big", "watching"),
    ("stage", "file_state and cache rows staged, written together in key order",
     "big", "bursts"),
    ("ahead", "a closed file hashed while its batch settles (sched-ahead.c)",
     "big", "tail"),
    ("keyfilter", "cache misses answered by a filter of the cache's keys, no query",
     "big", "bursts"),
]


def ab_sessions(name, master, tag, test, lay, args, tmp, logdir):
    """args.ab_reps sessions with the speed-up and as many without,
    alternating which goes first. Returns {"on": [...], "off": [...]}."""
    got = {"on": [], "off": []}
    for i in range(args.ab_reps):
        order = ("on", "off") if i % 2 == 0 else ("off", "on")
        for v in order:
            kind = "watchd" if v == "on" else "watchd-without-" + name
            full = {"latency": "latency", "bursts": "bursts", "tail": "bursts"}.get(test, False)
            res = session(kind, master, "%s-ab" % tag, full, lay, args, tmp, logdir)
            if test == "latency":
                val = get(res, "latency", "p99_ms")
                val = None if val is None else val - DEBOUNCE_MS
            elif test == "bursts":
                val = get(res, "rewrite_fresh", "cpu_ms")
            elif test == "tail":
                val = get(res, "rewrite_fresh", "drain_s")
                val = None if val is None else val * 1000.0
            else:
                key = "watching_s" if test == "watching" else "ready_s"
                val = None if res.get(key) is None else res[key] * 1000.0
            if val is not None:
                got[v].append(val)
    return got


def median(vals):
    if not vals:
        return None
    s = sorted(vals)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def render_ab(AB, args):
    if not AB:
        return ""
    head = ["speed-up (on tree)", "metric", "with", "without", "with/without", "n"]
    table = [head]
    for name, _what, tag, test in SPEEDUPS:
        got = AB.get(name)
        if not got:
            continue
        on, off = median(got["on"]), median(got["off"])
        metric = {"ready": "ready ms", "watching": "watching ms",
                  "latency": "p99 ms beyond debounce",
                  "bursts": "CPU ms, %d rewrite bursts" % args.burst_reps,
                  "tail": "burst tail ms, median of %d" % args.burst_reps}[test]
        table.append(["%s (%s)" % (name, tag), metric, fmt(on), fmt(off), fmt(ratio(on, off)),
                      "%d+%d" % (len(got["on"]), len(got["off"]))])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    out = ["", "what each speed-up buys: watchd with it and without it "
           "(WATCHD_BENCH_WITHOUT=NAME), median of %d alternating sessions each" % args.ab_reps,
           ""]
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])] + \
                [r[j].rjust(widths[j]) for j in range(2, 6)]
        out.append("  ".join(cells).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    for name, what, _tag, _test in SPEEDUPS:
        if name in AB:
            out.append("  %s: %s" % (name, what))
    return "\n".join(out)


def check_disk(tmp, files, dirs):
    st = os.statvfs(tmp)
    free = st.f_bavail * st.f_frsize
    # per copy: one 4 KiB block per file and directory, plus slack; master + 1 copy
    need = 2 * (files + dirs) * 4096 * 1.5 + (1 << 30)
    inodes = st.f_favail
    if free < need or (st.f_files and inodes < 3 * (files + dirs)):
        sys.exit("bench: not enough room under %s: %.1f GiB free, %d inodes free, "
                 "need about %.1f GiB" % (tmp, free / 2**30, inodes, need / 2**30))
    return free


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "%.0f%s" % (v, unit)
        if abs(v) >= 10:
            return "%.1f%s" % (v, unit)
        return "%.3g%s" % (v, unit)
    return "%s%s" % (v, unit)


def ratio(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        return None if a == 0 else float("inf")
    return a / b


def get(res, *keys):
    v = res
    for k in keys:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v


def build_rows(R, args):
    big, small = "big", "small"
    T = ["inotifywait", "watchman", "watchd", "watchd-base"]

    def r(tag, *keys):
        return {t: get(R.get(t, {}).get(tag, {}), *keys) for t in T}

    def kib2mib(d):
        return {k: (None if v is None else v / 1024.0) for k, v in d.items()}

    def ms(d):
        return {k: (None if v is None else v * 1000.0) for k, v in d.items()}

    bt = "%d files/%d dirs" % (args.files, args.dirs)
    st = "%d files/%d dirs" % (args.small_files, args.small_dirs)
    rows = []

    def add(metric, vals, target=None, check=None):
        w = vals.get("watchd")
        row = {"metric": metric, "values": vals,
               "watchd/inotifywait": ratio(w, vals.get("inotifywait")),
               "watchd/watchman": ratio(w, vals.get("watchman")),
               "watchd/base": ratio(w, vals.get("watchd-base")),
               "target": target, "ok": None}
        if check is not None and w is not None:
            try:
                row["ok"] = bool(check(vals))
            except TypeError:
                row["ok"] = None
        rows.append(row)

    def le_iw(v):
        return v["watchd"] <= v["inotifywait"]

    add("ready ms (%s)" % bt, ms(r(big, "ready_s")), "<= inotifywait", le_iw)
    add("ready ms (%s)" % st, ms(r(small, "ready_s")), "<= inotifywait", le_iw)
    if args.git_tree:
        add("ready ms (%s, git work tree)" % bt, ms(r("big-git", "ready_s")), "<= inotifywait",
            le_iw)
    add("watchd watching ms, from its log (%s)" % bt, ms(r(big, "watching_s")))
    add("watchd watching ms, from its log (%s)" % st, ms(r(small, "watching_s")))
    if args.git_tree:
        add("watchd watching ms, from its log (%s, git work tree)" % bt,
            ms(r("big-git", "watching_s")))
    # shown, no longer a target: it counts the pages of shared libraries
    # (libgit2, SQLite, libuv) no C program linked with them can shed;
    # RssAnon and the peak are the targets on memory watchd owns
    add("RSS MiB when ready (%s)" % bt, kib2mib(r(big, "rss_kib")))
    add("RSS MiB when ready (%s)" % st, kib2mib(r(small, "rss_kib")))
    add("RssAnon MiB when ready (%s)" % bt, kib2mib(r(big, "rss_anon_kib")), "<= watchman/4",
        lambda v: v["watchd"] * 4 <= v["watchman"])
    add("RssAnon MiB when ready (%s)" % st, kib2mib(r(small, "rss_anon_kib")), "<= watchman/4",
        lambda v: v["watchd"] * 4 <= v["watchman"])
    add("peak RSS MiB, VmHWM (%s, after all tests)" % bt, kib2mib(r(big, "hwm_kib")),
        "<= watchman/4", lambda v: v["watchd"] * 4 <= v["watchman"])
    add("peak RSS MiB, VmHWM (%s)" % st, kib2mib(r(small, "hwm_kib")))
    add("idle CPU ticks in %g s (1 tick = %g ms)" % (args.idle_s, 1000.0 / CLK_TCK),
        r(big, "idle_ticks"), "0", lambda v: v["watchd"] == 0)
    lat50, lat99 = r(big, "latency", "p50_ms"), r(big, "latency", "p99_ms")
    add("latency p50 ms, raw (%d writes)" % args.lat_n, lat50)
    add("latency p99 ms, raw", lat99)
    over = {t: None for t in T}
    over50 = {t: None for t in T}
    for t in ("watchd", "watchd-base"):
        if lat99[t] is not None:
            over[t] = lat99[t] - DEBOUNCE_MS
        if lat50[t] is not None:
            over50[t] = lat50[t] - DEBOUNCE_MS
    add("latency p50 ms beyond debounce (%d ms)" % DEBOUNCE_MS, over50)
    add("latency p99 ms beyond debounce (%d ms)" % DEBOUNCE_MS, over, "<= 10 ms",
        lambda v: v["watchd"] <= 10)
    add("latency writes lost (of %d, 5 s timeout)" % args.lat_n, r(big, "latency", "lost"),
        "0", lambda v: v["watchd"] == 0)
    add("burst %d new files: lost" % args.burst, r(big, "burst", "lost"), "0",
        lambda v: v["watchd"] == 0)
    add("burst: s writing (tool running)", r(big, "burst", "write_s"))
    add("burst: s after last write until last report", r(big, "burst", "drain_s"))
    if args.age_runs >= 0 and args.burst_reps > 0:
        what = "%d rewrites + new dir of %d" % (args.rewrite, args.rewrite_newdir)
        fresh, aged = r("big-age", "rewrite_fresh", "drain_s"), r("big-age", "rewrite_aged",
                                                                  "drain_s")
        add("%s: s after last write until last report, fresh daemon (median of %d)" % (
            what, args.burst_reps), fresh, "<= watchman", lambda v: v["watchd"] <= v["watchman"])
        add("the same after %d recorded runs (median of %d)" % (args.age_runs, args.burst_reps),
            aged, "<= watchman", lambda v: v["watchd"] <= v["watchman"])
        add("  aged / fresh", {t: ratio(aged[t], fresh[t]) for t in T}, "~1",
            lambda v: v["watchd"] <= 1.5)
        cf, ca = r("big-age", "rewrite_fresh", "cpu_ms"), r("big-age", "rewrite_aged", "cpu_ms")
        add("  daemon CPU ms over all %d of these bursts (fresh + aged)" % (2 * args.burst_reps),
            {t: (None if cf[t] is None or ca[t] is None else cf[t] + ca[t]) for t in T},
            "<= watchman", lambda v: v["watchd"] <= v["watchman"])
        add("  lost (fresh + aged)", {t: (None if r("big-age", "rewrite_fresh", "lost")[t] is None
                                          else r("big-age", "rewrite_fresh", "lost")[t] +
                                          (r("big-age", "rewrite_aged", "lost")[t] or 0))
                                      for t in T}, "0", lambda v: v["watchd"] == 0)
    add("new dir + %d files + subdir + %d files, x%d: lost" % (
        args.race_files, args.race_files, args.race_rounds), r(big, "newdir", "lost"), "0",
        lambda v: v["watchd"] == 0)
    if args.frozen:
        add("frozen (SIGSTOP, %d new files, SIGCONT): lost" % args.frozen,
            r(big, "frozen", "lost"), "0", lambda v: v["watchd"] == 0)
        add("frozen: paths reported in total", r(big, "frozen", "reported_total"))
        add("frozen: s after SIGCONT until last report", r(big, "frozen", "drain_s"),
            "<= watchman", lambda v: v["watchd"] <= v["watchman"])
        add("frozen: overflows reported", r(big, "frozen", "overflows"))
        add("frozen: daemon CPU ms", r(big, "frozen", "cpu_ms"), "<= watchman",
            lambda v: v["watchd"] <= v["watchman"])
    if args.fullspeed:
        what = "%d rewrites in place at full speed, max_queued_events=%d" % (args.fullspeed,
                                                                      args.fullspeed_queue)
        add("%s: overflows" % what, r("big-q", "fullspeed", "overflows"), "0",
            lambda v: v["watchd"] == 0)
        add("  lost", r("big-q", "fullspeed", "lost"), "0", lambda v: v["watchd"] == 0)
        add("  s after last write until last report", r("big-q", "fullspeed", "drain_s"),
            "<= watchman", lambda v: v["watchd"] <= v["watchman"])
        add("  daemon CPU ms", r("big-q", "fullspeed", "cpu_ms"), "<= watchman",
            lambda v: v["watchd"] <= v["watchman"])
        # the headroom left: events the reader found waiting at once
        add("  most events waiting in the kernel queue", r("big-q", "fullspeed", "queue_peak"),
            "< %d" % args.fullspeed_queue,
            lambda v: v["watchd"] is not None and v["watchd"] < args.fullspeed_queue)
    return rows


STAGE_ORDER = ["settle_look1", "settle_look2", "tree_note", "dispatch", "ledger_run_begin",
               "hash", "cache_lookup", "spawn", "tool", "ledger_gate", "ledger_run_finish",
               "ledger_flush"]
STAGE_WHAT = {
    "settle_look1": "first settle look (lstat + writer probe per file; a closed file's "
                    "lstat was taken as its close was handled)",
    "settle_look2": "second settle look, stability_ms later",
    "tree_note": "batch sorted, stamps noted in the tree",
    "dispatch": "batch to a run (planning, ledger_run_begin)",
    "ledger_run_begin": "ledger: the run and its files",
    "hash": "blob ids on the thread pool (queued + hashing), for a task with a file not hashed as it was closed",
    "cache_lookup": "fingerprint, cache lookups, chunks cut",
    "spawn": "tool processes started",
    "tool": "tool processes, start to exit (the reporter)",
    "ledger_gate": "ledger: gate run and files; state and cache rows staged",
    "ledger_run_finish": "ledger: run finished",
    "ledger_flush": "ledger: staged state and cache rows written, in key order",
}


def render_stages(R, args):
    """watchd's stage breakdown of the rewrite bursts (median rep by drain),
    from the daemon's own stage lines (WATCHD_BENCH_STAGES=1)."""
    res = R.get("watchd", {}).get("big-age", {})
    cols = []
    for key, label in (("rewrite_fresh", "fresh"), ("rewrite_aged", "aged")):
        reps = [x for x in get(res, key, "reps") or [] if x.get("drain_s") is not None]
        if reps:
            reps.sort(key=lambda x: x["drain_s"])
            cols.append((label, reps[len(reps) // 2]))
    if not cols:
        return []
    out = ["", "watchd stage breakdown of the rewrite burst (the median rep of each; ms summed "
           "over batches, stages overlap: hashing runs on the thread pool, tools in parallel)", ""]
    head = ["stage"]
    for label, _rep in cols:
        head += ["%s: during burst" % label, "%s: after last write" % label]
    table = [head]
    names = [n for n in STAGE_ORDER if any(n in rep.get("stages_burst", {}) for _, rep in cols)]
    for name in names:
        row = [name]
        for _, rep in cols:
            for k in ("stages_burst", "stages_tail"):
                v = rep.get(k, {}).get(name)
                row.append("—" if v is None else "%.1f (%d x, %d files)" % (v[0] / 1000.0, v[1],
                                                                           v[2]))
        table.append(row)
    row = ["drain s (last report - last write)"]
    for _, rep in cols:
        row += ["", fmt(rep["drain_s"])]
    table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        out.append("  ".join([r[0].ljust(widths[0])] +
                             [r[j].rjust(widths[j]) for j in range(1, len(head))]).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    for name in names:
        out.append("  %s: %s" % (name, STAGE_WHAT.get(name, "")))
    return out


STALL_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200]


def stall_cols(R):
    """(label, rep) of the median fresh and aged rewrite bursts and of the
    full-speed test, for the loop-turn histogram."""
    cols = []
    res = R.get("watchd", {}).get("big-age", {})
    for key, label in (("rewrite_fresh", "fresh"), ("rewrite_aged", "aged")):
        reps = [x for x in get(res, key, "reps") or [] if x.get("drain_s") is not None]
        if reps:
            reps.sort(key=lambda x: x["drain_s"])
            cols.append((label, reps[len(reps) // 2]))
    fs = get(R.get("watchd", {}).get("big-q", {}), "fullspeed")
    if fs and "stalls_us" in fs:
        cols.append(("full speed", fs))
    return cols


def render_stalls(cols):
    """Histogram of watchd's busy loop turns (time outside epoll_wait: the
    inotify fd waits that long) during the rewrite bursts."""
    if not any("stalls_us" in rep for _, rep in cols):
        return []
    edges = STALL_BUCKETS_MS + [None]
    head = ["loop turn busy"] + [label for label, _ in cols]
    table = [head]
    for i in range(len(STALL_BUCKETS_MS)):
        lo, hi = edges[i], edges[i + 1]
        row = ["%d-%s ms" % (lo, hi) if hi else ">= %d ms" % lo]
        for _, rep in cols:
            v = rep.get("stalls_us", [])
            row.append(str(sum(1 for us in v if us >= lo * 1000 and (hi is None or us < hi * 1000))))
        table.append(row)
    row = ["longest ms"]
    for _, rep in cols:
        v = rep.get("stalls_us", [])
        row.append(fmt(max(v) / 1000.0) if v else "—")
    table.append(row)
    out = ["", "watchd loop turns of 1 ms or more during the rewrite bursts (same reps) and "
           "the full-speed test (the time a turn spent outside epoll_wait; the reader "
           "thread drains inotify meanwhile)", ""]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        out.append("  ".join([r[0].ljust(widths[0])] +
                             [r[j].rjust(widths[j]) for j in range(1, len(head))]).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def render(rows, info, R, args):
    out = []
    out.append("watchd watcher benchmark — %s" % info["date"])
    out.append("machine: %s, %s cores, %s GiB RAM, %s; /tmp: %s" % (
        info["cpu"], info["cores"], info["ram_gib"], info["kernel"], info["tmp_fs"]))
    out.append("inotify: max_queued_events=%s max_user_watches=%s; %s; %s" % (
        info.get("inotify_max_queued_events"), info.get("inotify_max_user_watches"),
        info.get("inotifywait_version"), info.get("watchman_version")))
    out.append("watchd: debounce_ms=%d stability_ms=0, gate = C reporter via {files}; "
               "every file of a batch counts as reported at the batch time" % DEBOUNCE_MS)
    out.append("")
    base = bool(args.base_watchd)
    head = ["metric", "inotifywait", "watchman", "watchd", "w/inotifywait", "w/watchman",
            "target", "ok"]
    if base:  # the same tests on another watchd binary, e.g. before a change
        head[4:4] = ["watchd-base", "w/base"]
    table = [head]
    for row in rows:
        v = row["values"]
        ok = {True: "yes", False: "NO", None: ""}[row["ok"]]
        cells = [row["metric"], fmt(v["inotifywait"]), fmt(v["watchman"]), fmt(v["watchd"]),
                 fmt(row["watchd/inotifywait"]), fmt(row["watchd/watchman"]),
                 row["target"] or "", ok]
        if base:
            cells[4:4] = [fmt(v.get("watchd-base")), fmt(row["watchd/base"])]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    nnum = len(head) - 2
    for i, r in enumerate(table):
        cells = [r[0].ljust(widths[0])] + [r[j].rjust(widths[j]) for j in range(1, nnum)] + \
                [r[nnum].ljust(widths[nnum]), r[nnum + 1]]
        out.append("  ".join(cells).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    py = R.get("watchd-py", {}).get("small", {})
    if py:
        c = R.get("watchd", {}).get("small", {})
        out.append("")
        out.append("watchd reporter cost (%d-file tree, %d writes): python3 reporter "
                   "p50/p99 %s/%s ms, lost %s; C reporter p50/p99 %s/%s ms, lost %s" % (
                       args.small_files, args.lat_n,
                       fmt(get(py, "latency", "p50_ms")), fmt(get(py, "latency", "p99_ms")),
                       fmt(get(py, "latency", "lost")),
                       fmt(get(c, "latency", "p50_ms")), fmt(get(c, "latency", "p99_ms")),
                       fmt(get(c, "latency", "lost"))))
    out.extend(render_stages(R, args))
    out.extend(render_stalls(stall_cols(R)))
    probs = []
    for t, tags in R.items():
        for tag, res in tags.items():
            for k in ("error", "exit_code"):
                if k in res:
                    probs.append("%s/%s %s: %s" % (t, tag, k, res[k]))
            if res.get("alive_at_end") is False:
                probs.append("%s/%s: a process died during the tests" % (t, tag))
            for k in ("burst", "newdir", "frozen"):
                if get(res, k, "lost"):
                    probs.append("%s/%s %s lost e.g. %s" % (t, tag, k,
                                                            ", ".join(res[k]["lost_sample"][:3])))
            for n in res.get("notes", [])[:5]:
                probs.append("%s/%s note: %s" % (t, tag, n))
    if probs:
        out.append("")
        out.append("notes:")
        out.extend("  " + p for p in probs)
    return "\n".join(out)


def main():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--watchd", default="./watchd")
    ap.add_argument("--base-watchd", default=env("BENCH_BASE_WATCHD", ""),
                    help="another watchd binary (e.g. built before a change) run through "
                    "the same tests in the same run, as the column watchd-base")
    ap.add_argument("--files", type=int, default=int(env("BENCH_FILES", 100000)))
    ap.add_argument("--dirs", type=int, default=int(env("BENCH_DIRS", 10000)))
    ap.add_argument("--small-files", type=int, default=int(env("BENCH_SMALL_FILES", 0)))
    ap.add_argument("--small-dirs", type=int, default=int(env("BENCH_SMALL_DIRS", 0)))
    ap.add_argument("--lat-n", type=int, default=int(env("BENCH_LAT_N", 200)))
    ap.add_argument("--burst", type=int, default=int(env("BENCH_BURST", 10000)))
    ap.add_argument("--rewrite", type=int, default=int(env("BENCH_REWRITE", 10000)),
                    help="existing files rewritten by the fresh/aged rewrite burst")
    ap.add_argument("--rewrite-newdir", type=int, default=int(env("BENCH_REWRITE_NEWDIR", 500)),
                    help="files in the new directory the rewrite burst ends with")
    ap.add_argument("--burst-reps", type=int, default=int(env("BENCH_BURST_REPS", 3)),
                    help="rewrite bursts on the fresh daemon and as many on the aged one; "
                    "0 skips them")
    ap.add_argument("--age-runs", type=int, default=int(env("BENCH_AGE_RUNS", 300)),
                    help="single-file writes (watchd: recorded runs) between the fresh and "
                    "the aged rewrite bursts")
    ap.add_argument("--race-files", type=int, default=int(env("BENCH_RACE_FILES", 500)))
    ap.add_argument("--race-rounds", type=int, default=int(env("BENCH_RACE_ROUNDS", 3)))
    ap.add_argument("--frozen", type=int, default=int(env("BENCH_FROZEN", 20000)),
                    help="files written while the tool is stopped; 0 skips the test")
    ap.add_argument("--fullspeed", type=int, default=int(env("BENCH_FULLSPEED", 20000)),
                    help="existing files rewritten at full speed against a small kernel "
                    "queue (needs a writable max_queued_events); 0 skips the test")
    ap.add_argument("--fullspeed-queue", type=int,
                    default=int(env("BENCH_FULLSPEED_QUEUE", 1024)),
                    help="max_queued_events for the full-speed test")
    ap.add_argument("--idle-s", type=float, default=float(env("BENCH_IDLE_S", 20)))
    ap.add_argument("--quiet", type=float, default=float(env("BENCH_QUIET_S", 3)))
    ap.add_argument("--ready-timeout", type=int, default=120)
    ap.add_argument("--git-tree", type=int, default=int(env("BENCH_GIT_TREE", 1)),
                    help="1: also time ready on the big tree as a git work tree")
    ap.add_argument("--tools", default=env("BENCH_TOOLS", "inotifywait,watchman,watchd"))
    ap.add_argument("--ab-reps", type=int, default=int(env("BENCH_AB_REPS", 5)),
                    help="sessions with and without each speed-up; 0 skips that table")
    ap.add_argument("--ab-only", default=env("BENCH_AB_ONLY", ""),
                    help="comma-separated speed-ups to time (default: all)")
    ap.add_argument("--tmp", default=env("BENCH_TMP", "/tmp"))
    ap.add_argument("--out", default="build/bench/watch.json")
    args = ap.parse_args()
    if not args.small_files:
        args.small_files = min(10000, max(1, args.files // 10))
    if not args.small_dirs:
        args.small_dirs = min(1000, max(1, args.dirs // 10))
    tools = [t for t in args.tools.split(",") if t]
    if args.base_watchd:
        args.base_watchd = os.path.abspath(args.base_watchd)
        if not os.access(args.base_watchd, os.X_OK):
            sys.exit("bench: %s is not an executable" % args.base_watchd)
        if "watchd-base" not in tools:
            tools.append("watchd-base")
    if "watchd" in tools:
        args.watchd = os.path.abspath(args.watchd)
        if not os.access(args.watchd, os.X_OK):
            sys.exit("bench: %s is not an executable (run make first)" % args.watchd)
    for t in tools:
        exe = {"inotifywait": "inotifywait", "watchman": "watchman"}.get(t)
        if exe and shutil.which(exe) is None:
            sys.exit("bench: %s is not installed (scripts/install-deps.sh)" % exe)

    info = machine_info()
    free = check_disk(args.tmp, args.files, args.dirs)
    log("free under %s: %.1f GiB" % (args.tmp, free / 2**30))
    logdir = os.path.join(os.path.dirname(os.path.abspath(args.out)), "logs")
    os.makedirs(logdir, exist_ok=True)
    base = tempfile.mkdtemp(prefix="watchd-bench-", dir=args.tmp)
    R = {}
    AB = {}
    ab = [m for m in SPEEDUPS
          if args.ab_reps > 0 and "watchd" in tools and
          (not args.ab_only or m[0] in args.ab_only.split(","))]

    def run_ab(tag, master, lay):
        for name, _what, mtag, test in ab:
            if mtag == tag:
                log("speed-up %s on the %s tree: %d sessions with, %d without" % (
                    name, tag, args.ab_reps, args.ab_reps))
                AB[name] = ab_sessions(name, master, tag, test, lay, args, base, logdir)
                log("  with %s, without %s" % (AB[name]["on"], AB[name]["off"]))
    try:
        for tag, nf, nd in (("small", args.small_files, args.small_dirs),
                            ("big", args.files, args.dirs)):
            master = os.path.join(base, "master-" + tag)
            log("generating %s tree: %d files, %d dirs" % (tag, nf, nd))
            lay = gentree.generate(master, nf, nd, seed=1)
            os.sync()
            for t in tools:
                full = (tag == "big")
                R.setdefault(t, {})[tag] = session(t, master, tag, full, lay, args, base, logdir)
            if tag == "big" and args.fullspeed > 0 and os.access(QUEUE_KNOB, os.W_OK):
                # a formatter at full speed against a 1024-event kernel queue
                for t in tools:
                    if t != "inotifywait":
                        R.setdefault(t, {})["big-q"] = session(t, master, "big-q", "fullspeed",
                                                               lay, args, base, logdir)
            elif tag == "big" and args.fullspeed > 0:
                log("full-speed test skipped: %s is not writable" % QUEUE_KNOB)
            if tag == "big" and args.burst_reps > 0:
                # fresh daemon vs one that has recorded args.age_runs runs
                for t in tools:
                    R.setdefault(t, {})["big-age"] = session(t, master, "big-age", "age", lay,
                                                             args, base, logdir)
            run_ab(tag, master, lay)
            if tag == "big" and args.git_tree:
                # what users run it in: the same tree as a git work tree,
                # where watchd asks libgit2 about every directory
                make_git_tree(master)
                for t in tools:
                    R.setdefault(t, {})["big-git"] = session(t, master, "big-git", False, lay,
                                                             args, base, logdir)
                run_ab("big-git", master, lay)
            if tag == "small" and "watchd" in tools:
                # the reporter's own cost: C binary vs python3, same tree
                for kind in ("watchd", "watchd-py"):
                    key = kind if kind == "watchd-py" else "watchd"
                    res = session(kind, master, "small-lat", "latency", lay, args, base, logdir)
                    R.setdefault(key, {}).setdefault("small", {})["latency"] = res.get("latency")
                    if "error" in res:
                        R[key]["small"].setdefault("error", res["error"])
            shutil.rmtree(master, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    rows = build_rows(R, args)
    text = render(rows, info, R, args) + render_ab(AB, args)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    params = {k: v for k, v in vars(args).items()
              if k not in ("watchd", "base_watchd", "tmp", "out")}
    params["debounce_ms"] = DEBOUNCE_MS
    params["stability_ms"] = 0
    with open(args.out, "w") as f:
        json.dump({"machine": info, "params": params, "results": R,
                   "table": rows, "speedups": AB}, f, indent=1, default=str)
    log("wrote %s" % args.out)


if __name__ == "__main__":
    main()
