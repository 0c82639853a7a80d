"""A server asked for Ray with no cluster named starts a one-machine cluster of its own (the job-life
tests on a cluster the fixtures start are in test_jobs_live.py and test_faults_live.py)."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_jobs_live import QUICK
from tests.live import LiveServer, children_of, listening_hosts, pid_alive


def test_a_server_with_no_ray_address_starts_its_own_cluster_runs_jobs_on_it_and_stops_it(tmp_path: Path) -> None:
    env = {"TRAINSCOPE_EXECUTOR": "ray", "RAY_USAGE_STATS_ENABLED": "0"}
    server = LiveServer(tmp_path / "own-cluster.db", workers=1, env=env).start(timeout=180)
    assert server.process is not None
    try:
        assert server.health()["executor"] == "ray"
        cluster = children_of(server.process.pid)  # Ray's processes, started by the server
        assert cluster, "no Ray process was started"
        [worker] = server.health()["workers"]
        assert worker["pid"] not in [*cluster, server.process.pid]  # the job runs in an actor
        job = server.submit(QUICK)
        assert server.wait_status(job["id"], {"done", "failed"})["status"] == "done"
        every = [server.process.pid, worker["pid"], *cluster]
        assert listening_hosts(every) == {"127.0.0.1"}  # reachable from this machine only
    finally:
        server.stop()
    assert not any(pid_alive(pid) for pid in cluster)  # stopping the server stopped its cluster
