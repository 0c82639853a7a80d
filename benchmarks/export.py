"""Export time and peak memory against job size, up to the largest job the limits allow (max_job_bytes,
64 MB by default). Each (size, format) runs in a fresh process, so its peak is its own: the resident
set's growth over the export (ru_maxrss minus the RSS before it), and tracemalloc's Python peak in a
second, untimed pass. The
baseline is the smallest job in the same run: a streamed export's memory stays flat as the job grows
(ratio ~1), its time grows with the bytes.

    .venv/bin/python benchmarks/export.py [--sizes-mb 4 16 64] [--formats csv jsonl tensorboard]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from trainscope.config import Limits, Settings
from trainscope.jobs.exports import export_chunks
from trainscope.store.sql import SqlStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.stored import store_long_job


def measure(path: Path, form: str) -> dict[str, float]:
    """Timed and its resident growth first; then again under tracemalloc (which slows Python down
    several times) for the Python heap's peak."""
    store = SqlStore(f"sqlite:///{path}")
    record = store.get_job("bench")
    assert record is not None

    def export() -> int:
        page_bytes = Settings().export_page_bytes
        return sum(len(chunk) for chunk in export_chunks(store, [("bench", record)], form, page_bytes))  # type: ignore[arg-type]

    before = current_rss_kb()
    started = time.perf_counter()
    written = export()
    seconds = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    tracemalloc.start()
    export()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    store.close()
    return {
        "seconds": seconds,
        "output_mb": written / 2**20,
        "rss_growth_mb": growth / 1024,
        "python_peak_mb": python_peak / 2**20,
    }


def current_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes-mb", type=float, nargs="+", default=[4, 16, Limits().max_job_bytes / 2**20])
    parser.add_argument("--formats", nargs="+", default=["csv", "jsonl", "tensorboard"])
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)  # (db path, format): a measuring child
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(Path(args.one[0]), args.one[1])))
        return
    with tempfile.TemporaryDirectory() as folder:
        results: dict[tuple[float, str], dict[str, float]] = {}
        for megabytes in args.sizes_mb:
            path = Path(folder) / f"job-{megabytes:g}.db"
            store_long_job(path, megabytes)
            for form in args.formats:
                child = [sys.executable, __file__, "--one", str(path), form]
                results[megabytes, form] = json.loads(
                    subprocess.run(child, capture_output=True, text=True, timeout=900, check=True).stdout
                )
        smallest = args.sizes_mb[0]
        for (megabytes, form), row in results.items():
            base = results[smallest, form]
            ratio = row["rss_growth_mb"] / base["rss_growth_mb"] if base["rss_growth_mb"] > 0 else math.nan
            print(
                f"{megabytes:5g} MB job, {form:<11}: {row['seconds']:6.2f} s ({megabytes / row['seconds']:.1f} MB/s), "
                f"output {row['output_mb']:6.1f} MB, RSS growth {row['rss_growth_mb']:5.1f} MB ({ratio:.2f}x the "
                f"{smallest:g} MB job's), Python peak {row['python_peak_mb']:.1f} MB"
            )


if __name__ == "__main__":
    main()
