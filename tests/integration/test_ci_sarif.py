"""SARIF from `watchd ci`: valid against the official 2.1.0 schema (the
conftest validates every SARIF a test makes), artifact URIs that are RFC
3986 relative references under %SRCROOT%, a driver with version and
informationUri."""
import urllib.parse

from conftest import check_sarif, commit_all, requires, write_config

pytestmark = requires("run")

GATE = {"name": "shellcheck", "type": "command", "include": ["**/*.sh"],
        "command": ["shellcheck", "-f", "gcc", "{files}"], "parser": "gcc"}

NAMES = {
    "plain.sh": "plain.sh",
    "a b.sh": "a%20b.sh",
    "100%.sh": "100%25.sh",
    "x#y?z.sh": "x%23y%3Fz.sh",
    "café/€.sh": "caf%C3%A9/%E2%82%AC.sh",
    "c:x.sh": "./c:x.sh",
    "dir/a:b.sh": "dir/a:b.sh",
}


def test_sarif_uris_schema_and_driver(repo, watchd, tmp_path):
    write_config(repo, [GATE])
    for name in NAMES:
        p = repo / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("#!/bin/sh\necho $1\n")
    commit_all(repo, "odd names")
    out = tmp_path / "r.sarif"
    r = watchd("ci", "--format", "sarif", "--report", f"sarif={out}")
    assert r.rc == 1, str(r)
    for text in (r.stdout, out.read_text(encoding="utf-8")):
        doc = check_sarif(text)
        run = doc["runs"][0]
        driver = run["tool"]["driver"]
        assert driver["name"] == "shellcheck"
        assert driver["version"] and driver["informationUri"].startswith("https://")
        uris = {}
        for res in run["results"]:
            art = res["locations"][0]["physicalLocation"]["artifactLocation"]
            assert art["uriBaseId"] == "%SRCROOT%"
            uris[art["uri"]] = res
        assert sorted(uris) == sorted(NAMES.values()), sorted(uris)
        for name, uri in NAMES.items():
            # it resolves back to the file against the root
            base = "file:///checkout/"
            path = urllib.parse.urlsplit(urllib.parse.urljoin(base, uri)).path
            assert urllib.parse.unquote(path) == "/checkout/" + name, (name, uri)
