"""Does each lesson's verdict hold whatever the seed? Runs every lesson (or the ones named) on seeds 0-14
through the real job path (POST /api/lessons/{id}/run {"overrides": {"seed": N}} on a live server with
real workers and SQLite, loopback only) and prints, per lesson, how often the observation held, how long
its runs took, and the min / median / max of every figure the verdict rests on.

    .venv/bin/python benchmarks/lesson_seeds.py [--lessons dying-relu bias] [--seeds 15] [--workers 2] [--no-lockstep]
        [--per-seed]

The robustness rule (../shared/LESSONS.md): at least 14 of 15 seeds, with a margin wider than the spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import LiveServer

ENDED = {"done", "diverged", "failed", "cancelled"}


def run_lesson(server: LiveServer, lesson: str, seed: int) -> tuple[dict[str, Any], float]:
    """The judged group of one lesson run, and the wall time from submission to its last run's end."""
    start = time.monotonic()
    response = server.post(f"/api/lessons/{lesson}/run", {"overrides": {"seed": seed}})
    response.raise_for_status()
    group = response.json()
    for run in group["runs"]:  # wait on the jobs: reading the group before they end judges nothing
        server.wait_status(run["job_id"], ENDED, timeout=600)
    elapsed = time.monotonic() - start
    return server.group(group["id"]), elapsed


def spread(values: list[float | None]) -> str:
    """min / median / max, 'never' for a threshold a run never reached."""
    finite = sorted(v for v in values if v is not None)
    never = len(values) - len(finite)
    if not finite:
        return "never"
    text = " / ".join(f"{v:.3g}" for v in (finite[0], statistics.median(finite), finite[-1]))
    return text + (f"  (never: {never})" if never else "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", nargs="*", help="lesson ids (default: the whole catalogue)")
    parser.add_argument("--seeds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-lockstep", action="store_true", help="each run alone (TRAINSCOPE_LOCKSTEP=false): the sweep time before"
    )
    parser.add_argument("--per-seed", action="store_true", help="also each seed's figures, one JSON line per seed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"TRAINSCOPE_LOCKSTEP": "false"} if args.no_lockstep else {}
        server = LiveServer(Path(tmp) / "seeds.db", workers=args.workers, env=env).start()
        try:
            lessons = args.lessons or [lesson["id"] for lesson in server.get("/api/lessons").json()["lessons"]]
            print(f"{'lesson':<16} held  runs s (max)  figure: min / median / max")
            for lesson in lessons:
                verdicts, times = [], []
                for seed in range(args.seeds):
                    group, elapsed = run_lesson(server, lesson, seed)
                    verdicts.append(group["verdict"])
                    times.append(elapsed)
                    if args.per_seed:
                        figures = {k: v.get("value") for k, v in group["verdict"]["figures"].items()}
                        print(json.dumps({"lesson": lesson, "seed": seed, "figures": figures}), flush=True)
                held = sum(verdict["held"] is True for verdict in verdicts)
                failed = [seed for seed, verdict in enumerate(verdicts) if verdict["held"] is not True]
                print(
                    f"{lesson:<16} {held:>2}/{args.seeds}  {max(times):>5.1f}       not held on seeds: {failed or '-'}"
                )
                for seed in failed:
                    print(f"{'':<16} seed {seed}: {verdicts[seed]['detail'] or 'did not hold'}")
                for key in verdicts[0]["figures"]:
                    values = [verdict["figures"].get(key, {}).get("value") for verdict in verdicts]
                    print(f"{'':<16} {key}: {spread(values)}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
