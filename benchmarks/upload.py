"""Parsing an uploaded CSV, from a small table to the largest the limits allow (max_upload_bytes, 8 MB by
default): seconds and MB/s of `parse_csv` (strict: every value checked, line and column named on error),
against numpy's `loadtxt` on the same bytes in the same run (a lenient reader that names nothing), and
tracemalloc's peak in a second, untimed pass, as a multiple of the file's size.

With --at-once N, against a live server instead (loopback): the server's peak resident memory and
/api/health's slowest answer while N uploads of one 7.4 MB file arrive at once, against one such upload
alone in the same run (uploads take turns: upload_slots at once, upload_queue waiting, 503 past that).

    .venv/bin/python benchmarks/upload.py [--sizes-mb 1 4 8] [--columns 11] [--repeats 3]
    .venv/bin/python benchmarks/upload.py --at-once 20
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
import tracemalloc

import numpy as np

from trainscope.config import Limits
from trainscope.jobs.uploads import parse_csv


def make_csv(megabytes: float, columns: int) -> bytes:
    """Numbers as a spreadsheet exports them (5 decimals), the last column a class of three."""
    rng = np.random.default_rng(0)
    row_bytes = 9 * (columns - 1) + 2
    rows = int(megabytes * 2**20 / row_bytes)
    values = rng.normal(size=(rows, columns - 1))
    header = ",".join([*(f"x{i}" for i in range(columns - 1)), "y"])
    lines = [header, *(",".join(f"{v:.5f}" for v in row) + f",{i % 3}" for i, row in enumerate(values))]
    data = ("\n".join(lines) + "\n").encode()
    return data[: int(megabytes * 2**20)].rsplit(b"\n", 1)[0] + b"\n"  # within the size, whole lines


def median_of(repeats: int, run: object) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def live_uploads(at_once: int, columns: int) -> None:
    import sys
    import tempfile
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.live import LiveServer

    data = make_csv(7.4, columns)

    def measure(server: LiveServer, count: int) -> tuple[float, float, list[int]]:
        assert server.process is not None
        status = Path(f"/proc/{server.process.pid}/status")
        rss = [rss_mb(status)]
        health: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                rss.append(rss_mb(status))
                started = time.perf_counter()
                httpx.get(f"{server.url}/api/health", timeout=60)
                health.append(time.perf_counter() - started)
                time.sleep(0.02)

        def upload(i: int) -> int:
            headers = {"Content-Type": "text/csv"}
            url = f"{server.url}/api/datasets?name=t{i}"
            return httpx.post(url, content=data, headers=headers, timeout=300).status_code

        watcher = threading.Thread(target=watch)
        watcher.start()
        with ThreadPoolExecutor(count) as pool:
            codes = list(pool.map(upload, range(count)))
        done.set()
        watcher.join()
        return max(rss) - rss[0], max(health), codes

    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "u.db", workers=1).start()
        try:
            one_growth, one_health, _ = measure(server, 1)
            growth, slowest, codes = measure(server, at_once)
        finally:
            server.stop()
    answers = {code: codes.count(code) for code in sorted(set(codes))}
    print(
        f"{len(data) / 2**20:.1f} MB upload: alone, server memory +{one_growth:.0f} MB and health's slowest "
        f"{one_health * 1000:.0f} ms; {at_once} at once, +{growth:.0f} MB ({growth / max(one_growth, 1):.1f}x) "
        f"and {slowest * 1000:.0f} ms ({slowest / one_health:.1f}x); answers {answers}"
    )


def rss_mb(status: object) -> float:
    for line in status.read_text().splitlines():  # type: ignore[attr-defined]
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mb", type=float, nargs="+", default=[1, 4, Limits().max_upload_bytes / 2**20])
    parser.add_argument("--columns", type=int, default=11)  # 8 MB stays within max_upload_rows
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--at-once", type=int, help="uploads at once against a live server")
    args = parser.parse_args()
    if args.at_once:
        live_uploads(args.at_once, args.columns)
        return
    limits = Limits()
    print(f"{'size':>7} {'rows':>8} {'parse_csv':>10} {'MB/s':>6} {'loadtxt':>8} {'vs loadtxt':>10} {'peak/file':>9}")
    for megabytes in args.sizes_mb:
        data = make_csv(megabytes, args.columns)
        size = len(data) / 2**20
        ours = median_of(args.repeats, lambda data=data: parse_csv(data, None, None, limits))
        theirs = median_of(args.repeats, lambda data=data: np.loadtxt(io.BytesIO(data), delimiter=",", skiprows=1))
        tracemalloc.start()
        table = parse_csv(data, None, None, limits)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{size:6.1f}M {table.n_rows:8d} {ours:9.2f}s {size / ours:6.1f} {theirs:7.2f}s "
            f"{theirs / ours:9.2f}x {peak / len(data):8.1f}x"
        )


if __name__ == "__main__":
    main()
