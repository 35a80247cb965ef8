#!/usr/bin/env python3
"""Refresh the outputs in README.md and docs/*.md that tests/readme.rs checks.

Every block marked `<!-- doc-run: ARGS -->` (or `<!-- readme-derive: MODEL -->`)
followed by a ```text block is replaced by what `fimkit ARGS` prints now.
Run after `cargo build`: python3 scripts/update_docs.py
"""
import glob
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "debug", "fimkit")
if not os.path.exists(binary):
    sys.exit("build first: cargo build")


def run(args):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([binary] + args, capture_output=True, text=True, cwd=root, env=env).stdout


def refresh(path):
    text = open(path).read()

    def repl(m):
        kind, args = m.group(1), m.group(2).split()
        if kind == "readme-derive":
            args = ["derive"] + args
        return f"<!-- {kind}: {m.group(2)} -->\n```text\n{run(args)}```"

    new = re.sub(r"<!-- (doc-run|readme-derive): (.*?) -->\n```text\n.*?```", repl, text, flags=re.S)
    if new != text:
        open(path, "w").write(new)
        print("updated", os.path.relpath(path, root))


refresh(os.path.join(root, "README.md"))
for p in sorted(glob.glob(os.path.join(root, "docs", "*.md"))):
    refresh(p)
