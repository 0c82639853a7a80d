"""Live fan-out under load, against the barest FastAPI broadcast of the same traffic, loopback only,
bounded in count and time.

Phases, on one live server (one worker) following one running job:
1. trainscope: 200 websocket viewers (in several processes, benchmarks/viewers.py) follow the job while
   20 jobs are submitted at once and `/api/health` is asked every 100 ms.
2. stalled: the same with one more viewer that never reads: the others' latency must not change (its
   backlog drops older snapshots, then overflows and it is closed with 4008; it never holds up the pump).
3. storm: phase 1 again while 45 TensorBoard exports of the followed job are asked for at once, each
   abandoned by its client after a second (issue 19: that once silenced /api/health for minutes).
4. arrival: 200 viewers open the job (?history=compact as the page does, then full history) and
   are timed until their first live event, with /api/health asked throughout.
5. bare: the same viewers follow benchmarks/bare_broadcast.py sending the frames phase 1 received, at
   the same offsets and sizes, while the Trainscope job keeps training (the same load on the cores).
Latency is emit -> receive: the viewer's clock minus the event's `wall`, stamped by the worker (by the
bare server for phase 4), for events emitted after a warm-up in which the viewers connect.
Targets (issue 10): p99 under 100 ms and within 3x of the bare server; /api/health under 50 ms
throughout (the bare server's own /health, asked the same way, is its baseline); server memory
after the viewers leave within 100 MB of before.

    .venv/bin/python benchmarks/load.py [--viewers 200] [--processes 4] [--seconds 12] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.live import LiveServer, free_port, wait_for  # noqa: E402

# runs for well over a minute here, so it outlasts every phase
RUNNING = {
    "data": {"dataset": "spiral"},
    "model": {"hidden": [64, 64, 64]},
    "optim": {"steps": 1_000_000, "eval_every": 100},
}
SUBMITTED = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 50}}
WARM_UP_S = 3.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have ended (the viewer processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def ask_health(health_url: str, until: float, pid: int, rss: list[float]) -> list[float]:
    """Seconds each GET health_url took, one every 100 ms until `until`; the server's memory into rss."""
    took: list[float] = []
    async with httpx.AsyncClient(timeout=30) as client:
        while time.time() < until:
            began = time.perf_counter()
            (await client.get(health_url)).raise_for_status()
            took.append(time.perf_counter() - began)
            rss.append(rss_mb(pid))
            await asyncio.sleep(0.1)
    return took


async def submit_all(base_url: str, at: float, count: int) -> int:
    """POST `count` jobs at once at time `at`; the number that were not accepted."""
    if not count:
        return 0
    await asyncio.sleep(max(0.0, at - time.time()))
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        responses = await asyncio.gather(
            *(client.post("/api/jobs", json=SUBMITTED) for _ in range(count)), return_exceptions=True
        )
    return sum(1 for r in responses if isinstance(r, Exception) or r.status_code != 201)


STORM_EXPORTS = 45
ABANDON_AFTER_S = 1.0


async def abandoned_exports(base_url: str, job_id: str, at: float, count: int) -> list[str]:
    """`count` TensorBoard exports asked for at once at `at`, each read for a second and hung up on;
    the status line each got (empty: none within the second)."""
    await asyncio.sleep(max(0.0, at - time.time()))
    host, port = base_url.removeprefix("http://").split(":")

    async def one() -> str:
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /api/jobs/{job_id}/export?format=tensorboard HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
        writer.write(request.encode())
        status = b""
        try:
            status = await asyncio.wait_for(reader.readline(), ABANDON_AFTER_S)
            await asyncio.wait_for(reader.read(-1), ABANDON_AFTER_S)  # the archive, until the second is up
        except TimeoutError:
            pass
        writer.close()
        return status.decode(errors="replace").strip()

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def phase(
    url: str,
    args: argparse.Namespace,
    folder: Path,
    pid: int,
    base_url: str,
    health: str = "/api/health",
    submit: bool = True,
    stalled: bool = False,
    storm_job: str | None = None,
) -> dict[str, Any]:
    """Run the viewer processes against `url` while asking for `health` every 100 ms; submit: also
    POST the submissions a second into the phase; storm_job: ask for its abandoned exports then too."""
    start = time.time() + WARM_UP_S
    until = start + args.seconds
    counts = [args.viewers // args.processes + (i < args.viewers % args.processes) for i in range(args.processes)]
    outs = [folder / f"viewers-{i}.json" for i in range(args.processes)]
    processes = [
        subprocess.Popen(
            [sys.executable, str(HERE / "viewers.py"), url, str(count), str(start), str(until), str(out)]
            + (["--stalled"] if stalled and i == 0 else [])
        )
        for i, (count, out) in enumerate(zip(counts, outs, strict=True))
    ]
    cpu_before, viewers_before, wall_before = cpu_seconds(pid), children_cpu_seconds(), time.time()
    rss: list[float] = []
    storm = abandoned_exports(base_url, storm_job, start + 1.0, STORM_EXPORTS) if storm_job else asyncio.sleep(0)
    health_took, rejected, exports = await asyncio.gather(
        ask_health(base_url + health, until, pid, rss),
        submit_all(base_url, start + 1.0, args.submissions if submit else 0),
        storm,
    )
    for process in processes:
        await asyncio.to_thread(process.wait, args.seconds + 60)
    wall = time.time() - wall_before
    server_cpu = (cpu_seconds(pid) - cpu_before) / wall
    viewers_cpu = (children_cpu_seconds() - viewers_before) / wall
    parts = [json.loads(out.read_text()) for out in outs]
    latencies = [latency for part in parts for latency in part["latencies"]]
    return {
        "viewers": args.viewers,
        "seconds": args.seconds,
        "events_per_viewer": sorted(n for part in parts for n in part["events"])[args.viewers // 2],
        "latency_p50_ms": percentile(latencies, 0.5) * 1000,
        "latency_p99_ms": percentile(latencies, 0.99) * 1000,
        "missed_events": sum(part["missed"] for part in parts),
        "errors": [error for part in parts for error in part["errors"]] + ["submission refused"] * rejected,
        "stalled_close_code": parts[0]["stalled_close_code"],
        "health_p99_ms": percentile(health_took, 0.99) * 1000,
        "health_max_ms": max(health_took, default=float("nan")) * 1000,
        "server_cpu_share": server_cpu,
        "server_rss_peak_mb": max(rss, default=float("nan")),
        "caught_up_s": sorted(c for part in parts for c in part["caught_up"] if c is not None),
        "viewers_cpu_share": viewers_cpu,
        "frames": parts[0]["frames"],
        "exports": dict(Counter(line.split(" ")[1] if " " in line else "no answer" for line in exports or [])),
    }


async def bare_phase(args: argparse.Namespace, folder: Path, frames: list[Any]) -> dict[str, Any]:
    schedule = folder / "schedule.json"
    schedule.write_text(json.dumps(frames))
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "bare_broadcast.py"), str(port), str(schedule)])
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/health"), 30, "the bare server")
        base_url = f"http://127.0.0.1:{port}"
        return await phase(f"ws://127.0.0.1:{port}/ws", args, folder, server.pid, base_url, "/health", submit=False)
    finally:
        server.terminate()
        server.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def live_url(server: LiveServer, job_id: str) -> str:
    """The job's websocket from its newest event on: live events only (arrivals are measured apart)."""
    return f"{server.ws_url}/ws/jobs/{job_id}?after={server.job(job_id)['last_seq']}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        # every request here comes from one address; the followed job must outlive every phase
        env = {
            "TRAINSCOPE_LIMITS__MAX_JOBS_PER_CLIENT": "1000",
            "TRAINSCOPE_LIMITS__MAX_JOB_BYTES": str(2**30),
            "TRAINSCOPE_LIMITS__MAX_STEPS": "1000000",
        }
        server = LiveServer(folder / "load.db", workers=1, env=env).start()
        try:
            assert server.process is not None
            pid = server.process.pid
            result: dict[str, Any] = {"rss_before_mb": rss_mb(pid)}
            job_id = server.submit(RUNNING)["id"]
            server.wait_status(job_id, {"running"})
            result["trainscope"] = await phase(live_url(server, job_id), args, folder, pid, server.url)
            result["stalled"] = await phase(live_url(server, job_id), args, folder, pid, server.url, stalled=True)
            result["storm"] = await phase(live_url(server, job_id), args, folder, pid, server.url, storm_job=job_id)
            for history in ("compact", "full"):  # a room opening the job: its whole history, then live
                url = f"{server.ws_url}/ws/jobs/{job_id}?history={history}"
                arrival = argparse.Namespace(**{**vars(args), "seconds": args.arrival_seconds})
                result[f"arrival_{history}"] = await phase(url, arrival, folder, pid, server.url, submit=False)
            result["rss_after_mb"] = rss_mb(pid)
            result["stored_mb"] = server.health()["store_bytes"] / 2**20
            result["bare"] = await bare_phase(args, folder, result["trainscope"]["frames"])
            server.post(f"/api/jobs/{job_id}/cancel")
        finally:
            server.stop()
    return result


def report(result: dict[str, Any]) -> None:
    for name in ("trainscope", "stalled", "storm", "bare"):
        r = result[name]
        print(
            f"{name}: {r['viewers']} viewers, {r['events_per_viewer']} events each in {len(r['frames'])} frames; "
            f"emit->receive p50 {r['latency_p50_ms']:.1f} ms, p99 {r['latency_p99_ms']:.1f} ms; "
            f"missed {r['missed_events']}; errors {len(r['errors'])}; CPU: server {r['server_cpu_share']:.2f}, "
            f"viewers {r['viewers_cpu_share']:.2f} cores; health p99 {r['health_p99_ms']:.1f} ms, "
            f"max {r['health_max_ms']:.1f} ms"
            + (f"; stalled viewer closed with {r['stalled_close_code']}" if name == "stalled" else "")
            + (f"; {STORM_EXPORTS} abandoned exports: {r['exports']}" if name == "storm" else "")
        )
        for error in r["errors"][:3]:
            print(f"  error: {error}")
    for history in ("compact", "full"):
        r = result[f"arrival_{history}"]
        caught = r["caught_up_s"]
        print(
            f"arrival ({history} history of {result['stored_mb']:.0f} MB stored): {len(caught)} of {r['viewers']} "
            f"viewers caught up within {WARM_UP_S + r['seconds']:.0f} s"
            + (f", median {percentile(caught, 0.5):.1f} s, last {caught[-1]:.1f} s" if caught else "")
            + f"; health p99 {r['health_p99_ms']:.1f} ms, max {r['health_max_ms']:.1f} ms; "
            f"server peak {r['server_rss_peak_mb']:.0f} MB; errors {len(r['errors'])}"
        )
    ratio = result["trainscope"]["latency_p99_ms"] / result["bare"]["latency_p99_ms"]
    stall_ratio = result["stalled"]["latency_p99_ms"] / result["trainscope"]["latency_p99_ms"]
    print(f"p99 Trainscope / bare: {ratio:.2f} (target <= 3); with a stalled viewer / without: {stall_ratio:.2f}")
    storm, calm = result["storm"], result["trainscope"]
    print(
        f"with the export storm / without: viewers p99 {storm['latency_p99_ms'] / calm['latency_p99_ms']:.2f}, "
        f"health p99 {storm['health_p99_ms'] / calm['health_p99_ms']:.2f} "
        f"({storm['health_p99_ms']:.0f} vs {calm['health_p99_ms']:.0f} ms)"
    )
    print(f"server memory: {result['rss_before_mb']:.0f} MB before, {result['rss_after_mb']:.0f} MB after viewers left")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--arrival-seconds", type=float, default=30.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
