"""Running under systemd: `start --foreground` speaks the notify protocol
to a real NOTIFY_SOCKET listener (READY=1 once watching, RELOADING=1 and
READY=1 around a config reload, STATUS= after each run, WATCHDOG=1 pings
when WatchdogSec= asks for them, STOPPING=1 at shutdown), and no gate's
tool inherits the socket. The shipped unit passes `systemd-analyze verify`,
and `service install` writes and enables it, or says what to run."""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import WATCHD, commit_all, track_daemon, wait_until, write_config, git

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(REPO_DIR, "contrib", "systemd", "watchd@.service")


class Listener:
    """A notify socket, as systemd binds it: datagrams, one message each."""

    def __init__(self, path=None, abstract=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.sock.bind("\0" + abstract)
            self.name = "@" + abstract
        else:
            self.sock.bind(path)
            self.name = path
        self.sock.setblocking(False)
        self.messages = []

    def drain(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    def first(self, key):
        """Index of the first message holding the line key (e.g. READY=1)."""
        for i, m in enumerate(self.drain()):
            if key in m.split("\n"):
                return i
        return None

    def wait(self, key, timeout=20):
        wait_until(lambda: self.first(key) is not None, timeout=timeout,
                   what=f"{key} on the notify socket; got {self.messages}")
        return self.first(key)

    def close(self):
        self.sock.close()


def start_foreground(repo, env, listener, watchdog_usec=None):
    e = dict(env)
    e["NOTIFY_SOCKET"] = listener.name
    script = 'exec "$0" start --foreground'
    if watchdog_usec:
        e["WATCHDOG_USEC"] = str(watchdog_usec)
        # systemd names the main process; the shell's pid becomes watchd's
        script = 'WATCHDOG_PID=$$; export WATCHDOG_PID; ' + script
    p = subprocess.Popen(["sh", "-c", script, str(WATCHD)], cwd=str(repo), env=e,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    track_daemon(p.pid)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err.decode(errors="replace")[-3000:]
    return out.decode(errors="replace"), err.decode(errors="replace")


@pytest.fixture
def listener(tmp_path):
    sock_dir = tmp_path / "n"
    sock_dir.mkdir()
    lst = Listener(path=str(sock_dir / "notify"))
    yield lst
    lst.close()


def test_ready_reload_status_stopping_in_order(repo, env, listener, tmp_path):
    leak = tmp_path / "leak"
    # the gate's tool records whether NOTIFY_SOCKET reached it
    tool = tmp_path / "envcheck"
    tool.write_text('#!/bin/sh\necho "${NOTIFY_SOCKET:-unset} ${WATCHDOG_USEC:-unset}" >> "%s"\n'
                    'exit 0\n' % leak)
    tool.chmod(0o755)
    gate = {"name": "envcheck", "type": "command", "include": ["**/*.txt"],
            "command": [str(tool), "{files}"], "parser": "exit"}
    write_config(repo, [gate], debounce_ms=30, stability_ms=10)
    commit_all(repo)
    p = start_foreground(repo, env, listener)
    try:
        ready = listener.wait("READY=1")
        msg = listener.messages[ready]
        assert any(line.startswith("STATUS=watching ") for line in msg.split("\n")), msg
        assert f"MAINPID={p.pid}" in msg.split("\n"), msg

        (repo / "a.txt").write_text("x\n")
        wait_until(lambda: any("last run " in m for m in listener.drain()),
                   what=f"a STATUS= naming the last run; got {listener.messages}")
        assert leak.read_text().strip() == "unset unset"

        cfg = (repo / "watch.config.json").read_text()
        (repo / "watch.config.json").write_text(cfg.replace('"debounce_ms": 30',
                                                            '"debounce_ms": 40'))
        reload_at = listener.wait("RELOADING=1")
        wait_until(lambda: any("READY=1" in m.split("\n")
                               for m in listener.drain()[reload_at + 1:]),
                   what=f"READY=1 after RELOADING=1; got {listener.messages}")
        assert any(line.startswith("MONOTONIC_USEC=")
                   for line in listener.messages[reload_at].split("\n"))
    finally:
        stop(p)
    stopping = listener.first("STOPPING=1")
    assert stopping is not None, listener.messages
    assert stopping == len(listener.drain()) - 1, listener.messages  # nothing after
    assert ready < reload_at < stopping
    assert not any("WATCHDOG=1" in m for m in listener.messages)  # none asked for


def test_watchdog_pings_and_abstract_socket(repo, env, tmp_path):
    write_config(repo, [], debounce_ms=30)
    lst = Listener(abstract=f"watchd-test-{os.getpid()}-{time.monotonic_ns()}")
    try:
        p = start_foreground(repo, env, lst, watchdog_usec=200000)
        try:
            lst.wait("READY=1")
            wait_until(lambda: sum("WATCHDOG=1" in m.split("\n") for m in lst.drain()) >= 3,
                       what=f"three WATCHDOG=1 pings; got {lst.messages}")
        finally:
            stop(p)
        assert lst.first("STOPPING=1") is not None
    finally:
        lst.close()


def test_watchdog_for_another_pid_is_ignored(repo, env, listener):
    write_config(repo, [], debounce_ms=30)
    e = dict(env)
    e["WATCHDOG_USEC"] = "100000"
    e["WATCHDOG_PID"] = "1"  # meant for someone else
    e["NOTIFY_SOCKET"] = listener.name
    p = subprocess.Popen([str(WATCHD), "start", "--foreground"], cwd=str(repo), env=e,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    track_daemon(p.pid)
    try:
        listener.wait("READY=1")
        # a ping would come within 50 ms; wait on a sync round-trip instead
        # of a bare sleep: status --sync settles a cookie through the loop
        subprocess.run([str(WATCHD), "status", "--sync"], cwd=str(repo), env=env,
                       capture_output=True, timeout=30)
        t_end = time.monotonic() + 0.3
        while time.monotonic() < t_end:
            listener.drain()
            time.sleep(0.05)
    finally:
        stop(p)
    assert not any("WATCHDOG=1" in m for m in listener.messages), listener.messages


def test_escape_matches_systemd_escape(repo, watchd, tmp_path):
    exe = shutil.which("systemd-escape")
    if not exe:
        pytest.skip("systemd-escape not installed")
    odd = tmp_path / "a dir-with.odd_chars" / ".hidden" / "ünï"
    odd.mkdir(parents=True)
    git(odd, "init", "-q")
    r = watchd("service", "print", cwd=odd)
    assert r.rc == 0, str(r)
    want = subprocess.run([exe, "--path", str(odd)], capture_output=True,
                          text=True).stdout.strip()
    assert f"watchd@{want}.service" in r.stdout, (want, r.stdout)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify wants the ExecStart binary to exist: point it at ours
    text = open(UNIT).read().replace("@bindir@", os.path.dirname(str(WATCHD)))
    unit = tmp_path / "watchd@.service"
    unit.write_text(text)
    inst = tmp_path / "watchd@srv-repo.service"
    os.symlink(unit, inst)
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(inst)],
                       capture_output=True, text=True, env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    problems = [line for line in (p.stdout + p.stderr).splitlines() if line.strip()
                and "Failed to open" not in line  # no user bus in a container
                and "Cannot add dependency job" not in line]
    assert p.returncode == 0 or not problems, p.stdout + p.stderr
    assert not problems, problems


def no_systemctl_path(tmp_path):
    """A PATH holding git and sh but no systemctl."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in ("git", "sh"):
        os.symlink(shutil.which(tool), bindir / tool)
    return str(bindir)


def test_service_install_without_systemd_says_what_to_run(repo, watchd, tmp_path):
    cfg_home = tmp_path / "cfg"
    extra = {"XDG_CONFIG_HOME": str(cfg_home), "PATH": no_systemctl_path(tmp_path)}
    r = watchd("service", "install", env_extra=extra)
    assert r.rc == 4, str(r)
    unit = cfg_home / "systemd" / "user" / "watchd@.service"
    text = unit.read_text()
    exe = os.path.realpath(str(WATCHD))
    assert f"ExecStart={exe} --root %f start --foreground" in text
    assert "Type=notify" in text
    assert "systemd is not installed" in r.stdout
    assert f"watchd --root '{repo}' start" in r.stdout or str(repo) in r.stdout

    # another tree's instance still enabled: uninstall keeps the template
    wants = cfg_home / "systemd" / "user" / "default.target.wants"
    wants.mkdir()
    os.symlink(unit, wants / "watchd@srv-other.service")
    r = watchd("service", "uninstall", env_extra=extra)
    assert r.rc == 0, str(r)
    assert unit.exists()
    (wants / "watchd@srv-other.service").unlink()
    r = watchd("service", "uninstall", env_extra=extra)
    assert r.rc == 0, str(r)
    assert not unit.exists()


@pytest.mark.skipif(not shutil.which("systemctl"), reason="systemctl not installed")
def test_service_install_with_systemctl(repo, watchd, tmp_path):
    cfg_home = tmp_path / "cfg"
    r = watchd("service", "install", env_extra={"XDG_CONFIG_HOME": str(cfg_home)})
    unit = cfg_home / "systemd" / "user" / "watchd@.service"
    assert unit.exists()
    esc = watchd("service", "print").stdout.split("(instance ")[1].split(")")[0]
    if r.rc == 0:  # a user manager runs: it is enabled and running
        try:
            assert "enabled and started" in r.stdout
            wait_until(lambda: watchd("status").rc in (0, 1), what="the service's daemon")
        finally:
            watchd("service", "uninstall", env_extra={"XDG_CONFIG_HOME": str(cfg_home)})
    else:  # no user session (a container): exactly what to run instead
        assert r.rc == 4, str(r)
        assert f"systemctl --user enable --now {esc}" in r.stdout, str(r)
        watchd("service", "uninstall", env_extra={"XDG_CONFIG_HOME": str(cfg_home)})
    assert not unit.exists()


def test_service_rejects_unknown_action(watchd):
    r = watchd("service", "restart")
    assert r.rc == 2 and "restart" in r.stderr
