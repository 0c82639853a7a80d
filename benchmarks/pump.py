"""What the server's pump spends per event, with the event encoded in the worker (today: the pump only
writes job and seq in front of the text) against encoding it in the pump (before: every event was
pickled as a dict, rebuilt, and JSON-encoded in the server process). Same events, same process,
alternating repeats; the events come from a real run with every probe on (boundaries, networks,
histograms, scalars batches). Also prints the worker's cost of encoding, which moved there.

    .venv/bin/python benchmarks/pump.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time

from trainscope.config import Limits
from trainscope.jobs.ledger import Ledger, LiveJob, Pending
from trainscope.jobs.wire import encode_event
from trainscope.schemas import EventBase, JobSpec, JobStatus, StatusEvent
from trainscope.training.driver import fit

SPEC = {
    "data": {"dataset": "spiral"},
    "model": {"hidden": [16, 16]},
    "optim": {"steps": 2000, "eval_every": 50},
    "probes": {"boundary_every": 50, "network_every": 50, "histogram_every": 50, "min_interval_s": 0.0},
}


def fresh_ledger() -> Ledger:
    ledger = Ledger(Limits(max_job_bytes=2**40), lambda job, live: None)
    ledger.live["job"] = LiveJob(status=JobStatus.running, last_seq=0, spec_json="")
    return ledger


def pump_encoding(events: list[bytes]) -> float:
    """Before: the pump unpickles each event dict and JSON-encodes it."""
    ledger, pending = fresh_ledger(), Pending()
    started = time.perf_counter()
    for message in events:
        ledger.record("job", pickle.loads(message), pending)
    return time.perf_counter() - started


def worker_encoded(messages: list[bytes]) -> float:
    """Now: the pump unpickles the worker's text and writes job and seq in front of it."""
    ledger, pending = fresh_ledger(), Pending()
    started = time.perf_counter()
    for message in messages:
        ledger.record_encoded(pickle.loads(message), pending)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    made: list[EventBase] = []
    fit(JobSpec.model_validate(SPEC), made.append)
    made = [e for e in made if not isinstance(e, StatusEvent)]  # statuses take the same path both ways
    as_dicts = [pickle.dumps(e.model_dump(exclude={"job", "seq"})) for e in made]
    started = time.perf_counter()
    encoded = [encode_event("job", e) for e in made]
    worker_cost = time.perf_counter() - started
    as_text = [pickle.dumps(m) for m in encoded]
    before, after = [], []
    for _ in range(args.repeats):
        before.append(pump_encoding(as_dicts))
        after.append(worker_encoded(as_text))
    old, new = statistics.median(before), statistics.median(after)
    size = sum(len(m.body) for m in encoded)
    n = len(made)
    print(f"{n} events, {size / 2**20:.1f} MB of JSON")
    print(
        f"pump per event: encoding there {old / n * 1e6:.1f} us, worker-encoded {new / n * 1e6:.1f} us: "
        f"{old / new:.1f}x less"
    )
    print(f"worker per event, encoding moved there: {worker_cost / n * 1e6:.1f} us")


if __name__ == "__main__":
    main()
