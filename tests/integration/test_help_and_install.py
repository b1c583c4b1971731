"""What a new user meets before the first gate runs: `help` and `--help`
from one command table, the man page (lint-clean for groff and mandoc, and
naming every command), bash and zsh completions driven for real, `make
install`/`make uninstall` under DESTDIR, and one version in CHANGELOG.md,
the man page and `watchd version`."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import WATCHD, commit_all, write_config

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAN = os.path.join(REPO_DIR, "docs", "watchd.1")
BASH_COMP = os.path.join(REPO_DIR, "contrib", "completions", "watchd.bash")
ZSH_COMP = os.path.join(REPO_DIR, "contrib", "completions", "_watchd")


def commands(watchd):
    r = watchd("help")
    assert r.rc == 0, str(r)
    block = r.stdout.split("commands:\n")[1].split("\n\n")[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def options_of(watchd, cmd):
    out = watchd("help", cmd).stdout
    m = re.search(r"^options:(.*)$", out, re.M)
    return re.findall(r"--[a-z-]+", m.group(1)) if m else []


def test_help_and_dash_dash_help_agree(watchd):
    cmds = commands(watchd)
    assert {"start", "status", "service", "help", "version"} <= set(cmds)
    for c in cmds:
        a, b = watchd("help", c), watchd(c, "--help")
        assert a.rc == 0 and b.rc == 0, (str(a), str(b))
        assert a.stdout == b.stdout, c
        assert a.stdout.startswith(f"usage: watchd {c}")
    r = watchd("help", "bogus")
    assert r.rc == 2 and "unknown command 'bogus'" in r.stderr


def test_man_page_is_lint_clean_and_complete(watchd):
    text = open(MAN).read()
    for c in commands(watchd):
        assert re.search(rf"^\.B {re.escape(c)}\b", text, re.M), f"man page lacks {c}"
    for word in ("EXIT STATUS", "ENVIRONMENT", "FILES", "CONFIGURATION", "WATCHD_SKIP"):
        assert word in text
    ran = False
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-ww", "-z", "-man", MAN], capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr == "", p.stderr
        ran = True
    if shutil.which("mandoc"):
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", MAN],
                           capture_output=True, text=True)
        assert p.returncode == 0 and not p.stdout and not p.stderr, p.stdout + p.stderr
        ran = True
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                           env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_STDERR": "1"})
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert "watch a source tree" in p.stdout
    if not ran:
        pytest.skip("neither groff nor mandoc installed")


def complete(repo, env, words):
    """Runs the bash completion function on words (the last one is being
    typed) in a real bash, with watchd on PATH, and returns COMPREPLY."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); '
              '_watchd; printf "%s\\n" "${COMPREPLY[@]}"')
    e = dict(env)
    e["PATH"] = os.path.dirname(str(WATCHD)) + os.pathsep + e["PATH"]
    p = subprocess.run(["bash", "-c", script, "bash", BASH_COMP, *words], cwd=str(repo),
                       env=e, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


def test_bash_completion(repo, env, watchd):
    cmds = commands(watchd)
    assert sorted(complete(repo, env, ["watchd", ""])) == sorted(cmds)
    assert complete(repo, env, ["watchd", "--root", ".", "sta"]) == ["start", "status"]
    for c in cmds:
        offered = set(complete(repo, env, ["watchd", c, "--"]))
        missing = set(options_of(watchd, c)) - offered
        assert not missing, f"{c}: completion lacks {missing}"
    assert complete(repo, env, ["watchd", "hook", ""]) == ["install", "uninstall"]
    assert sorted(complete(repo, env, ["watchd", "service", ""])) == \
        ["install", "print", "uninstall"]

    gates = [{"name": n, "type": "command", "include": ["**/*.sh"],
              "command": ["true", "{files}"], "parser": "exit"} for n in ("lint-a", "lint-b")]
    write_config(repo, gates)
    (repo / "x.sh").write_text("true\n")
    commit_all(repo)
    assert complete(repo, env, ["watchd", "log", "--gate", "lint-"]) == ["lint-a", "lint-b"]
    r = watchd("run")
    assert r.rc == 0, str(r)
    run_id = watchd("log", "--json").json[0]["id"]
    assert complete(repo, env, ["watchd", "show", ""]) == [run_id]
    assert complete(repo, env, ["watchd", "show", run_id, ""]) == []


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh not installed")
def test_zsh_completion_parses_and_lists_every_command(watchd):
    p = subprocess.run(["zsh", "-n", ZSH_COMP], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = open(ZSH_COMP).read()
    assert text.startswith("#compdef watchd")
    for c in commands(watchd):
        assert re.search(rf"^\t\t'{re.escape(c)}:", text, re.M), f"_watchd lacks {c}"
        for o in options_of(watchd, c):
            assert f"'{o}" in text or f"'*{o}" in text, f"_watchd lacks {c} {o}"
    # the completion system loads it: compinit finds it on fpath
    d = os.path.dirname(ZSH_COMP)
    p = subprocess.run(["zsh", "-f", "-c", f"fpath=({d} $fpath); autoload -Uz compinit; "
                        "compinit -u -D; print -r -- ${_comps[watchd]}"],
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "_watchd", p.stdout + p.stderr


def test_make_install_and_uninstall(tmp_path):
    if not (WATCHD.parent / "watchd").exists() or not shutil.which("make"):
        pytest.skip("no build")
    dest = tmp_path / "stage"
    args = ["make", "-s", "-C", REPO_DIR, f"DESTDIR={dest}", "PREFIX=/usr"]
    p = subprocess.run(args + ["install"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    want = ["usr/bin/watchd", "usr/share/man/man1/watchd.1",
            "usr/share/bash-completion/completions/watchd",
            "usr/share/zsh/site-functions/_watchd", "usr/lib/systemd/user/watchd@.service"]
    for f in want:
        assert (dest / f).is_file(), f
    assert os.access(dest / "usr/bin/watchd", os.X_OK)
    unit = (dest / "usr/lib/systemd/user/watchd@.service").read_text()
    assert "ExecStart=/usr/bin/watchd --root %f start --foreground" in unit
    assert "@bindir@" not in unit
    p = subprocess.run([str(dest / "usr/bin/watchd"), "version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("watchd ")
    p = subprocess.run(args + ["uninstall"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    left = [str(f.relative_to(dest)) for f in dest.rglob("*") if f.is_file()]
    assert left == [], left


def test_one_version_everywhere(watchd):
    out = watchd("version").stdout
    m = re.match(r"watchd (\d+\.\d+\.\d+) \((.*)\)$", out.strip())
    assert m, out
    version, libs = m.groups()
    for lib in ("libuv", "sqlite", "libgit2", "cJSON", "expat", "libyaml"):
        assert re.search(rf"\b{lib} \d+\.\d+", libs), (lib, libs)
    changelog = open(os.path.join(REPO_DIR, "CHANGELOG.md")).read()
    assert "## [Unreleased]" in changelog
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.M)
    assert released and released[0] == version, (released, version)
    assert f'"watchd {version}"' in open(MAN).read()
    assert "MIT License" in open(os.path.join(REPO_DIR, "LICENSE")).read()
    assert "root = true" in open(os.path.join(REPO_DIR, ".editorconfig")).read()
