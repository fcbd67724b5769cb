"""Benchmark: render every stack offline, as `make plan` does. Target: all stacks in under 10 s on 2 cores.

Speed is measured here, not asserted in tests. Run with `make bench`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 10.0
RUNS = 3


def main() -> int:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "offline.plan", "--quiet"], cwd=ROOT, check=True, capture_output=True)
        timings.append(time.perf_counter() - start)
    best, median = min(timings), statistics.median(timings)
    verdict = "within" if median < TARGET_SECONDS else "OVER"
    print(f"offline plan, all stacks, {RUNS} runs: best {best:.2f} s, median {median:.2f} s")
    print(f"{verdict} the {TARGET_SECONDS:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
