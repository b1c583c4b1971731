"""Hostile input is refused exactly, and never reaches a terminal or a tool
as something else: control characters in config errors are escaped, a
\\u0000 escape is refused (it would cut a name short), an error in a key
written with \\u escapes points at that key, nesting past the parser's
limit says so, and symbolic links that lead to no file (a directory,
themselves) are never handed to a tool, in `run` or the daemon (a dangling
link still is: the tool reports it missing, as git sees a file)."""
import os

from conftest import write_config

REC = {"name": "rec", "type": "command", "include": ["**/*.txt"],
       "command": ["record-files", "{files}"], "timeout_s": 60}


def check(repo, watchd, text):
    (repo / "watch.config.json").write_bytes(text.encode() if isinstance(text, str) else text)
    r = watchd("config", "check")
    assert r.rc == 2, str(r)
    return r.stderr


def test_control_characters_in_config_errors_are_escaped(repo, watchd):
    err = check(repo, watchd, '{"version":1,"gates":[{"name":"a\\u001b[31mred\\u009b",'
                '"type":"ruff","include":["**/*.py"]}]}')
    assert "\x1b" not in err and "\x9b" not in err, repr(err)
    assert "\\x1b[31mred\\u009b" in err, err
    err = check(repo, watchd, b'{"version":1,"gates":[{"name":"x","type":"ruff\x07",'
                b'"include":["**/*.py"]}]}')
    assert "\x07" not in err


def test_nul_escape_is_refused_with_its_position(repo, watchd):
    err = check(repo, watchd, '{"version": 1,\n "gates": [{"name": "a\\u0000b", '
                '"type": "ruff", "include": ["**/*.py"]}]}')
    assert "watch.config.json:2:23: " in err and "\\u0000" in err and "not allowed" in err, err
    # a backslash written out is not a NUL
    err = check(repo, watchd, '{"version":1,"gates":[{"name":"a\\\\u0000b","type":"ruff",'
                '"include":["**/*.py"]}]}')
    assert "not allowed in a string" not in err and "gates[0].name" in err


def test_error_in_escaped_key_points_at_it(repo, watchd):
    err = check(repo, watchd, '{"version": 1,\n\n   "\\u0069gnore": 5}')
    assert "watch.config.json:3:4: ignore:" in err, err
    err = check(repo, watchd, '{"version": 1,\n "gat\\u0065s": [\n  {"name": "x", "type": "bogus",'
                ' "include": ["**/*.py"]}]}')
    assert "watch.config.json:3:" in err and "gates[0].type" in err, err


def test_nesting_past_the_limit_says_so(repo, watchd):
    err = check(repo, watchd, '{"version": 1, "x": ' + "[" * 5000 + "]" * 5000 + "}")
    assert "nested too deeply" in err and "watch.config.json:1:" in err, err


def make_links(repo):
    (repo / "realdir").mkdir()
    (repo / "realdir" / "r.txt").write_text("r\n")
    (repo / "good.txt").write_text("g\n")
    os.symlink("realdir", repo / "dir.txt")
    os.symlink("loop2.txt", repo / "loop1.txt")
    os.symlink("loop1.txt", repo / "loop2.txt")
    os.symlink("nowhere", repo / "dangling.txt")
    os.symlink("good.txt", repo / "alias.txt")


def test_run_hands_no_link_to_a_non_file_to_tools(repo, watchd, rec):
    write_config(repo, [REC])
    make_links(repo)
    extra = {"WATCHD_TEST_RECORD": str(rec.file)}
    r = watchd("run", env_extra=extra)
    assert r.rc == 0, str(r)
    assert sorted(rec.paths()) == ["alias.txt", "dangling.txt", "good.txt", "realdir/r.txt"]
    rec.clear()
    r = watchd("run", "dir.txt", "loop1.txt", "alias.txt", env_extra=extra)
    assert r.rc == 0, str(r)
    assert rec.paths() == []  # alias.txt: cached from the first run
    for name in ("dir.txt", "loop1.txt"):
        assert f"{name}: a symbolic link to a directory, or a loop: not a file" in r.stderr


def test_daemon_hands_no_link_to_a_non_file_to_tools(repo, rec):
    rec.start(gates=[REC])
    make_links(repo)
    rec.sync()
    assert sorted(set(rec.paths())) == ["alias.txt", "dangling.txt", "good.txt",
                                        "realdir/r.txt"]
    # a file replaced by a loop is gone as far as the gates go
    rec.clear()
    os.unlink(repo / "good.txt")
    os.symlink("good.txt", repo / "good.txt")
    (repo / "new.txt").write_text("n\n")
    rec.sync()
    assert "good.txt" not in rec.paths() and "new.txt" in rec.paths()
