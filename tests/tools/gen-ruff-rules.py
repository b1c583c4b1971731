#!/usr/bin/env python3
"""Regenerate tests/tools/ruff-rules.json from a checkout of astral-sh/ruff.

Usage: gen-ruff-rules.py RUFF_CHECKOUT > tests/tools/ruff-rules.json

The WASM build of Ruff reports only a rule's code, so the stand-in
(tests/tools/ruff) looks the kebab-case rule name and the usual fix
applicability up in this table:

  code -> [name, applicability]

* name: the Rule variant from crates/ruff_linter/src/codes.rs, converted to
  kebab-case the way strum/heck does it (this is what the CLI prints as
  `name` and uses in the docs URL) -- exact for the rules of that checkout.
* applicability: a heuristic. The file that defines the rule's violation
  struct is scanned for Fix::safe_edit / Fix::unsafe_edit /
  Fix::display_only_edit / Applicability::*; if exactly one kind appears it is
  used, otherwise "mixed" (the stand-in then falls back to its own override
  table or "safe"). null = no fix constructor found.
"""
import json
import os
import re
import sys


def kebab(ident):
    # heck's word splitting: boundary lower->Upper, and before the last upper
    # of an uppercase run followed by a lowercase letter; digits keep the mode.
    words, start, mode = [], 0, None
    for i, c in enumerate(ident):
        if i + 1 == len(ident):
            words.append(ident[start:])
            break
        nxt = ident[i + 1]
        next_mode = "lower" if c.islower() else "upper" if c.isupper() else mode
        if next_mode == "lower" and nxt.isupper():
            words.append(ident[start:i + 1])
            start, mode = i + 1, "boundary"
        elif mode == "upper" and c.isupper() and nxt.islower():
            words.append(ident[start:i])
            start, mode = i, "boundary"
        else:
            mode = next_mode
    return "-".join(w.lower() for w in words if w)


def main():
    root = sys.argv[1]
    src = os.path.join(root, "crates", "ruff_linter", "src")
    registry = open(os.path.join(src, "registry.rs"), encoding="utf-8").read()
    prefixes = {}
    pending = []
    for line in registry.splitlines():
        m = re.match(r'\s*#\[prefix = "([A-Z0-9]+)"\]', line)
        if m:
            pending.append(m.group(1))
            continue
        m = re.match(r"\s*([A-Za-z0-9]+),\s*$", line)
        if m and pending:
            prefixes[m.group(1)] = pending
            pending = []
    # struct name -> applicability kinds in its defining file
    kinds_by_struct = {}
    for dirpath, _, files in os.walk(os.path.join(src, "rules")):
        for f in files:
            if not f.endswith(".rs"):
                continue
            text = open(os.path.join(dirpath, f), encoding="utf-8").read()
            kinds = set()
            for m in re.finditer(r"Fix::(safe|unsafe|display_only)_edits?|Applicability::(Safe|Unsafe|DisplayOnly)", text):
                k = (m.group(1) or m.group(2)).lower().replace("displayonly", "display_only")
                kinds.add({"display_only": "displayonly"}.get(k, k))
            for m in re.finditer(r"pub(?:\(crate\))? struct ([A-Za-z0-9]+)", text):
                kinds_by_struct.setdefault(m.group(1), kinds)
    codes = open(os.path.join(src, "codes.rs"), encoding="utf-8").read()
    table = {}
    for m in re.finditer(r'\((\w+), "([A-Z0-9]+)"\) => rules::[\w:]*::(\w+),', codes):
        linter, code, struct = m.groups()
        pre = prefixes[linter]
        full = code if len(pre) > 1 else pre[0] + code
        kinds = kinds_by_struct.get(struct)
        appl = None if not kinds else (next(iter(kinds)) if len(kinds) == 1 else "mixed")
        table[full] = [kebab(struct), appl]
    json.dump(dict(sorted(table.items())), sys.stdout, indent=0, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
