#!/usr/bin/env python3
"""CPU time (user + system, from wait4) of `fimkit derive FILE` for the
raw-density corpus, best of 3 runs, as a Markdown table.
Usage: scripts/raw_corpus_times.py [path/to/fimkit]   (release build)"""
import glob, os, subprocess, sys

exe = sys.argv[1] if len(sys.argv) > 1 else "target/release/fimkit"
rows = []
for d in ["tests/fixtures/textbook/raw", "tests/fixtures/textbook/raw_numeric", "tests/fixtures/textbook/raw_refused"]:
    for f in sorted(glob.glob(d + "/*.fim")):
        best = None
        for _ in range(3):
            p = subprocess.Popen([exe, "derive", f], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            out = p.stdout.read().decode()
            _, status, ru = os.wait4(p.pid, 0)
            cpu = ru.ru_utime + ru.ru_stime
            best = cpu if best is None else min(best, cpu)
        closed = "no closed-form" not in out
        rows.append((os.path.relpath(f, "tests/fixtures/textbook"), best, closed))
print("| model | F | CPU ms (best of 3) |")
print("|---|---|---:|")
for name, cpu, closed in rows:
    print(f"| `{name}` | {'closed form' if closed else 'refused (numeric route)'} | {cpu * 1000:.0f} |")
print(f"\ntotal CPU (best runs): {sum(r[1] for r in rows) * 1000:.0f} ms")
