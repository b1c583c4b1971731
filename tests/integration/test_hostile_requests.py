"""A client of the socket is any process of the user: its numbers and types
are checked before the daemon acts on them. A sync timeout of 1e300, a
negative one, a non-object or a wrong type gets an error reply, and the
daemon serves the next client as before. Numeric flags refuse inf, nan,
negatives and overflow with exit 2."""
import json
import socket

import pytest


def ask(sock_path, line: bytes):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(line + b"\n")
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf.split(b"\n")[0])


@pytest.mark.parametrize("line", [
    b'{"cmd":"status","sync":true,"timeout_ms":1e300}',
    b'{"cmd":"status","sync":true,"timeout_ms":-5}',
    b'{"cmd":"status","sync":true,"timeout_ms":"60"}',
    b'{"cmd":7}',
    b'["status"]',
    b'{"cmd":"status"',
])
def test_hostile_request_gets_an_error_and_the_daemon_serves_on(daemon, watchd, line):
    sock = watchd("status", "--json").json["socket"]
    reply = ask(sock, line)
    assert "error" in reply, reply
    assert ask(sock, b'{"cmd":"ping"}')["ok"] is True
    r = watchd("status", "--sync", "--json", "--timeout", "30")
    assert r.rc in (0, 1) and r.json["running"] is True, str(r)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e999", "abc", "5s"])
def test_status_timeout_refuses_what_is_not_a_count_of_seconds(watchd, value):
    r = watchd("status", "--sync", "--timeout", value)
    assert r.rc == 2, str(r)
    assert f"--timeout '{value}'" in r.stderr
