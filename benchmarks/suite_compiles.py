"""Where the default suite's compile time goes (issue 17, "budgets that hold").

Run the suite with every test's compiles logged, from an empty compilation cache:

    TRAINEE_CACHE=$(mktemp -d) TRAINEE_TEST_COMPILES=$(mktemp -d) python -m pytest -q
    python benchmarks/suite_compiles.py <the TRAINEE_TEST_COMPILES dir>

prints the compile seconds per test file and per test (the heaviest first), and the
programs compiled in more than one test (a program the persistent cache should have
served: compiled twice because two workers built it at once, or because its shape
differs in a way that does not matter to the test).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

MIN_SECONDS = 0.5  # the persistent cache keeps programs from this compile time up


def read(log_dir: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(log_dir.glob("*.jsonl"))
            for line in path.read_text().splitlines() if line]


def main(log_dir: str, top: int = 25) -> None:
    rows = [r for r in read(Path(log_dir)) if r["seconds"] >= MIN_SECONDS]
    fresh = [r for r in rows if not r["cached"]]
    total = sum(r["seconds"] for r in fresh)
    print(f"{len(fresh)} programs compiled (>= {MIN_SECONDS} s) in {total:.0f} s; "
          f"{len(rows) - len(fresh)} loaded from the persistent cache in "
          f"{sum(r['seconds'] for r in rows if r['cached']):.0f} s")
    for label, key in (("file", lambda r: r["test"].split("::")[0]), ("test", lambda r: r["test"])):
        seconds: dict[str, float] = defaultdict(float)
        for r in fresh:
            seconds[key(r)] += r["seconds"]
        print(f"\ncompile seconds by {label}:")
        for name, s in sorted(seconds.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {s:7.1f}  {name}")
    tests: dict[str, list[dict]] = defaultdict(list)
    for r in fresh:
        tests[r["name"]].append(r)
    print("\nprograms compiled in more than one test (seconds, tests):")
    repeated = {n: rs for n, rs in tests.items() if len({r["test"] for r in rs}) > 1}
    for name, rs in sorted(repeated.items(), key=lambda kv: -sum(r["seconds"] for r in kv[1])):
        where = sorted({r["test"].split("::")[0].removeprefix("tests/") for r in rs})
        print(f"  {sum(r['seconds'] for r in rs):6.1f} s  {len(rs)} x {name}: {', '.join(where)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/suite_compiles.py <TRAINEE_TEST_COMPILES dir>")
    main(sys.argv[1])
