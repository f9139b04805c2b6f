#!/usr/bin/env python3
"""Compares the speed verdicts of two bnconform_bench reports.

Usage: compare_runs.py A.md B.md

For each case both reports measured, the kernel under test's verdict against the
best peer and against the best strict peer: "faster" in one report and "slower" in
the other is a contradiction; a verdict in one and "tie" in the other is a change
at the edge of an interval. Prints both kinds and the counts; exits 1 when there is
a contradiction, 2 when a report cannot be read, else 0.
"""
import re
import sys

VERDICT = re.compile(r"^([0-9.]+) \[([0-9.]+), ([0-9.]+)\] (faster|tie|slower)$")


def fail(message):
    """One line on stderr, exit 2: a report that cannot be read."""
    print(f"compare_runs.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def verdicts(path):
    """{(case, column): (verdict, text)} for the kernel under test's rows."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    for line in lines:
        if not line.startswith("| "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 9:
            continue
        for column, text in (("best peer", cells[6]), ("best strict peer", cells[7])):
            m = VERDICT.match(text)
            if m:
                out[(cells[0], column)] = (m.group(4), text)
    if not out:
        fail(f"{path}: no verdicts (not a bnconform_bench report?)")
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    a, b = verdicts(argv[1]), verdicts(argv[2])
    contradictions, edges, same = [], [], 0
    for key in sorted(a.keys() & b.keys()):
        (va, ta), (vb, tb) = a[key], b[key]
        if va == vb:
            same += 1
        elif "tie" in (va, vb):
            edges.append((key, ta, tb))
        else:
            contradictions.append((key, ta, tb))
    for title, rows in (("contradictions", contradictions), ("tie in one run only", edges)):
        print(f"{title}: {len(rows)}")
        for (case, column), ta, tb in rows:
            print(f"  {case}, vs {column}: {ta} | {tb}")
    only = len(a.keys() ^ b.keys())
    print(f"the same verdict: {same}; in one report only: {only}")
    return 1 if contradictions else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
