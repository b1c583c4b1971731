"""watchd log/show/export/gc as a user sees them, without a daemon.

Needs only pytest and the binary (conftest.py's WATCHD: $WATCHD, default
build/asan/watchd, else ./watchd). Ledgers are made with Python's sqlite3 where a test
needs a file that watchd itself would never write.
"""
import json
import sqlite3
import subprocess

import pytest

from conftest import LEDGER_APP_ID, WATCHD


def watchd(root, *args):
    p = subprocess.run([str(WATCHD), "--root", str(root), *args], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def root(tmp_path):
    """A bare directory as ROOT (these commands need no repository); it
    overrides conftest.py's `root` harness in this module."""
    return tmp_path


def test_no_ledger_is_an_empty_answer(root):
    assert watchd(root, "log")[:2] == (0, "no runs recorded yet\n")
    rc, out, _ = watchd(root, "log", "--json")
    assert rc == 0 and json.loads(out) == []
    assert watchd(root, "export")[:2] == (0, "")
    rc, out, _ = watchd(root, "gc")
    assert rc == 0 and "nothing to prune" in out
    rc, _, err = watchd(root, "show", "01ARYZ6S41")
    assert rc == 2 and "01ARYZ6S41" in err
    assert not (root / ".watchd").exists()      # reading never creates state


@pytest.mark.parametrize("args", [
    ["log", "--limit", "0"], ["log", "--limit", "x"], ["log", "--status", "done"],
    ["log", "--since", "soon"], ["log", "extra"], ["show"], ["show", "a", "b"],
    ["export", "--since", "x"], ["gc", "--keep-days", "-1"], ["gc", "--keep-runs", "x"],
    ["log", "--bogus"],
])
def test_usage_errors_exit_2(root, args):
    rc, _, err = watchd(root, *args)
    assert rc == 2, err
    assert "usage: watchd" in err or "watchd:" in err


def make_db(root, app_id, version):
    (root / ".watchd").mkdir()
    db = sqlite3.connect(root / ".watchd" / "ledger.db")
    db.execute("CREATE TABLE t (x)")
    db.execute(f"PRAGMA application_id = {app_id}")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def test_newer_ledger_is_refused(root):
    make_db(root, LEDGER_APP_ID, 99)
    for args in (["log"], ["show", "01"], ["export"], ["gc", "--keep-runs", "1"]):
        rc, _, err = watchd(root, *args)
        assert rc == 4, (args, err)
        assert "ledger.db" in err and "version 99" in err


def test_foreign_file_is_refused_and_untouched(root):
    make_db(root, 1234, 0)
    rc, _, err = watchd(root, "gc", "--keep-runs", "1")
    assert rc == 4 and "not a watchd ledger" in err
    db = sqlite3.connect(root / ".watchd" / "ledger.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert db.execute("PRAGMA application_id").fetchone()[0] == 1234
