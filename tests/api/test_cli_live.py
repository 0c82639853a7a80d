"""The `trainscope` command against a live server, run as a person runs it (a subprocess): submit and
watch with a progress line, the exit code telling done from diverged, list, show, cancel, export, a
lesson, and each kind of refusal with its own exit code."""

from __future__ import annotations

import fcntl
import functools
import importlib.metadata
import json
import math
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import tarfile
import termios
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.live import LiveServer

QUICK = ["--set", "data.dataset=moons", "--set", "data.n_points=200", "--set", "optim.eval_every=50"]


def trainscope(server_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINSCOPE_URL": server_url}
    return subprocess.run(
        [sys.executable, "-m", "trainscope.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_submit_and_watch_prints_progress_and_exits_0_when_done(server: LiveServer) -> None:
    done = trainscope(server.url, "submit", *QUICK, "--set", "optim.steps=600", "--set", "pace=1500", "--watch")
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("step ")]
    assert progress[-1].startswith("step 600/600 [####################] 100%")
    assert "loss " in progress[-1] and "val acc " in progress[-1] and "samples/s" in done.stderr
    job_id, status = done.stdout.split()[:2]
    assert status == "done:" and server.job(job_id)["status"] == "done"


def test_a_diverging_run_exits_1_and_json_is_the_job(server: LiveServer) -> None:
    spec = {"data": {"dataset": "moons"}, "optim": {"optimizer": "sgd", "lr": 1000, "steps": 500}}
    diverged = trainscope(server.url, "submit", "-", "--watch", "--json", stdin=json.dumps(spec))
    assert diverged.returncode == 1, diverged.stderr
    job = json.loads(diverged.stdout)
    assert job["status"] == "diverged" and job["spec"]["optim"]["lr"] == 1000


def test_jobs_show_cancel_and_export(server: LiveServer, tmp_path: Path) -> None:
    submitted = trainscope(server.url, "submit", *QUICK, "--set", "optim.steps=100000", "--set", "pace=50", "--json")
    job_id = json.loads(submitted.stdout)["id"]
    listed = json.loads(trainscope(server.url, "jobs", "--limit", "5", "--json").stdout)
    assert job_id in [job["id"] for job in listed["jobs"]]
    cancelled = trainscope(server.url, "cancel", job_id)
    assert cancelled.returncode == 0 and cancelled.stdout.split()[0] == job_id  # it stops at its next report
    server.wait_status(job_id, {"cancelled"})
    shown = trainscope(server.url, "show", job_id)
    assert shown.stdout.startswith(f"{job_id} cancelled")
    out = tmp_path / "run.csv"
    exported = trainscope(server.url, "export", job_id, "--format", "csv", "-o", str(out))
    assert exported.returncode == 0 and out.read_text().startswith("run,tag,step,wall,value")
    board = tmp_path / "run.tar.gz"
    assert trainscope(server.url, "export", job_id, "--format", "tensorboard", "-o", str(board)).returncode == 0
    with tarfile.open(board) as tar:
        assert any(".tfevents." in name for name in tar.getnames())


def test_a_lesson_runs_to_its_verdict(server: LiveServer) -> None:
    held = trainscope(server.url, "lesson", "run", "bias")
    assert held.returncode == 0, held.stderr
    assert "verdict: held" in held.stdout.splitlines()
    lessons = trainscope(server.url, "lessons").stdout.splitlines()
    assert lessons[0].split() == ["id", "question"] and any(line.startswith("bias ") for line in lessons)


def test_follow_reattaches_to_a_detached_job_and_jobs_is_a_sortable_table(server: LiveServer) -> None:
    submitted = trainscope(server.url, "submit", *QUICK, "--set", "optim.steps=400", "--set", "pace=400", "--json")
    job_id = json.loads(submitted.stdout)["id"]
    server.wait_status(job_id, {"running"})
    followed = trainscope(server.url, "follow", job_id)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.startswith(f"{job_id} done:")
    assert [line for line in followed.stderr.splitlines() if line.startswith("step ")][-1].startswith("step 400/400")
    again = trainscope(server.url, "follow", job_id, "--json")  # an ended job: its outcome at once
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "done"

    listed = trainscope(server.url, "jobs", "--order=-val/acc", "--where", "val/acc>0", "--columns", "optim.lr,val/acc")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["id", "optim.lr", "val/acc"] and rows
    shown_accuracies = [float(row.split()[2].rstrip("%")) for row in rows]
    assert shown_accuracies == sorted(shown_accuracies, reverse=True)
    assert all(re.fullmatch(r"\d+\.\d%", row.split()[2]) for row in rows)  # rounded for people
    exact = json.loads(trainscope(server.url, "jobs", "--order=-val/acc", "--where", "val/acc>0", "--json").stdout)
    assert [f"{job['summary']['val/acc']:.1%}" for job in exact["jobs"]][: len(rows)] == [r.split()[2] for r in rows]
    refused = trainscope(server.url, "jobs", "--where", "val/acc>>1")
    assert refused.returncode == 3 and "query.where.0" in refused.stderr


def test_a_group_from_a_grid_file_is_followed_shown_listed_and_exported(server: LiveServer, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.json"
    base = {"data": {"dataset": "moons", "n_points": 200}, "optim": {"steps": 150}}
    sweep.write_text(json.dumps({"name": "lr sweep", "base": base, "grid": {"optim.lr": [0.003, 0.3]}}))
    created = trainscope(server.url, "group", "create", str(sweep), "--set", "optim.eval_every=25", "--watch")
    assert created.returncode == 0, created.stderr
    group_id = created.stderr.split()[1].rstrip(":")
    assert "runs 2/2 ended" in created.stderr
    header, *rows = created.stdout.splitlines()[1:]
    assert header.split() == ["run", "job", "status", "step", "train/loss", "val/acc"]
    assert len(rows) == 2 and all(row.split()[2:4] == ["done", "150"] for row in rows)
    assert {row.split()[0] for row in rows} == {"lr=0.003", "lr=0.3"}
    assert trainscope(server.url, "group", "show", group_id).stdout == created.stdout
    assert group_id in trainscope(server.url, "group", "list").stdout
    exported = trainscope(server.url, "group", "export", group_id, "-o", "-")
    assert exported.stdout.startswith("run,tag,step,wall,value") and "stdout:" in exported.stderr
    hinted = trainscope(server.url, "export", group_id)
    assert hinted.returncode == 3 and "trainscope group export" in hinted.stderr
    axis = trainscope(server.url, "group", "create", "--grid", "optim.lr=0.1")
    assert axis.returncode == 2 and "JSON list" in axis.stderr


def test_the_progress_line_on_a_terminal_leaves_no_stale_characters(server: LiveServer) -> None:
    """Replayed through a terminal emulator: every redraw clears what a longer line left behind."""
    pyte = pytest.importorskip("pyte")
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 150, 0, 0))
    env = {**os.environ, "TRAINSCOPE_URL": server.url}
    command = [sys.executable, "-m", "trainscope.cli", "submit", *QUICK, "--set", "optim.steps=1500"]
    command += ["--set", "pace=300", "--watch"]  # ~5 s: ETA counts down through 2, then 1 digits
    with subprocess.Popen(command, env=env, stderr=secondary, stdout=subprocess.PIPE) as watching:
        os.close(secondary)
        drawn = b""
        while chunk := read_some(primary):
            drawn += chunk
        assert watching.wait(timeout=60) == 0
    os.close(primary)
    screen = pyte.Screen(150, 40)
    pyte.ByteStream(screen).feed(drawn.replace(b"\n", b"\r\n"))
    lines = [line.rstrip() for line in screen.display if line.strip()]
    progress = [line for line in lines if line.startswith("step ")]
    assert len(progress) == 1, lines  # redrawn in place: one line, not one per update, nor twice at the end
    final = r"step 1500/1500 \[#{20}\] 100% · loss \S+ · val acc \d+\.\d% · [\d,]+ samples/s"
    assert re.fullmatch(final, progress[0]), progress[0]  # nothing left over from an ETA
    assert drawn.count(b"\r") > 5 and b"ETA" in drawn  # it was redrawn, and the ETA was there to clear


def read_some(fd: int) -> bytes:
    """What the terminal got next, or b"" once the program has closed it."""
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: every writer has gone
        return b""


def test_db_current_and_upgrade_through_the_app_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    def db(verb: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trainscope.cli", "db", verb],
            env={**os.environ, "TRAINSCOPE_DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )

    before = db("current")
    assert (
        before.returncode == 0 and "at no schema" in before.stdout and "needs `trainscope db upgrade`" in before.stdout
    )
    upgraded = db("upgrade")
    newest = before.stdout.split("newest ")[1].split()[0]
    assert upgraded.returncode == 0 and upgraded.stdout.strip().endswith(f"no schema -> {newest}")
    assert f"at {newest}, newest {newest} (up to date)" in db("current").stdout


def test_each_refusal_has_its_exit_code_and_says_why(server: LiveServer) -> None:
    usage = trainscope(server.url, "submit", "--set", "no-equals-sign")
    assert usage.returncode == 2 and "PATH=VALUE" in usage.stderr
    refused = trainscope(server.url, "submit", "--set", "optim.lr=1e9")
    assert refused.returncode == 3 and "optim.lr: must lie in" in refused.stderr
    assert trainscope(server.url, "show", "nosuchjob").returncode == 3
    unreachable = trainscope("http://127.0.0.1:9", "jobs")
    assert unreachable.returncode == 4 and "no server answered" in unreachable.stderr
    helped = trainscope(server.url, "--help")
    assert all(command in helped.stdout for command in ("submit", "jobs", "show", "cancel", "export", "lesson"))
    version = trainscope(server.url, "--version")
    assert version.returncode == 0 and version.stdout.split()[-1] == importlib.metadata.version("trainscope")


@pytest.mark.parametrize("cancel_on_exit", [True, False])
def test_ctrl_c_while_watching_detaches_or_cancels(server: LiveServer, cancel_on_exit: bool) -> None:
    env = {**os.environ, "TRAINSCOPE_URL": server.url}
    args = ["submit", *QUICK, "--set", "optim.steps=100000", "--set", "pace=100", "--watch"]
    args += ["--cancel-on-exit"] if cancel_on_exit else []
    command = [sys.executable, "-m", "trainscope.cli", *args]
    # as at a terminal: a test run started in the background (`cmd &`) ignores SIGINT, and its children
    # would inherit that and never see the Ctrl-C
    at_a_terminal = functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL)
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=at_a_terminal) as watching:
        assert watching.stderr is not None
        job_id = watching.stderr.readline().split()[1]  # "job ID submitted", then progress
        server.wait_status(job_id, {"running"})
        watching.send_signal(signal.SIGINT)
        assert watching.wait(timeout=30) == 130
        said = watching.stderr.read()
    if cancel_on_exit:
        assert f"cancelled job {job_id}" in said
        server.wait_status(job_id, {"cancelled"})
    else:
        assert "detached" in said and server.job(job_id)["status"] == "running"
        server.post(f"/api/jobs/{job_id}/cancel")


def test_a_csv_is_uploaded_trained_on_listed_and_deleted_from_the_terminal(server: LiveServer, tmp_path: Path) -> None:
    table = tmp_path / "rings.csv"
    rows = [f"{r * math.cos(a):.4f},{r * math.sin(a):.4f},{int(r > 1)}" for r in (0.5, 1.5) for a in range(60)]
    table.write_text("\n".join(["u,v,outer", *rows]) + "\n")
    uploaded = trainscope(server.url, "datasets", "upload", str(table))
    assert uploaded.returncode == 0, uploaded.stderr
    dataset_id, rows_shown = uploaded.stdout.split()[:2]
    assert rows_shown == "120" and uploaded.stdout.split()[-3:] == ["2", "classes", "rings.csv"]
    data = json.dumps({"kind": "uploaded", "dataset": dataset_id})
    done = trainscope(server.url, "submit", "--set", f"data={data}", "--set", "optim.steps=200", "--watch")
    assert done.returncode == 0, done.stderr
    assert dataset_id in trainscope(server.url, "datasets", "list").stdout
    assert trainscope(server.url, "datasets", "delete", dataset_id).returncode == 0
    gone = trainscope(server.url, "submit", "--set", f"data={data}")
    assert gone.returncode == 3 and "no uploaded dataset" in gone.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("u,v,outer\n1,2,0\n1,x,1\n")
    refused = trainscope(server.url, "datasets", "upload", str(bad))
    assert refused.returncode == 3 and "line 3, column 'v': 'x' is not a number" in refused.stderr


BAD_INVOCATIONS = [
    # (arguments, standard input, exit code, what the last line of stderr says)
    (["submit", "-"], "{not json", 2, "not a JSON spec: Expecting property name"),
    (["submit", "-"], "[1, 2]", 2, "a spec is a JSON object"),
    (["submit", "/nonexistent/spec.json"], None, 2, "No such file"),
    (["submit", "--set", "no-equals-sign"], None, 2, "PATH=VALUE"),
    (["submit", "--set", "=3"], None, 2, "PATH=VALUE"),
    (["submit", "--set", "optim.lr=1e9"], None, 3, "optim.lr: must lie in"),
    (["submit", "--set", "name=x\x1b]0;pwned\x07"], None, 3, "name: holds an unprintable character U+001B"),
    (["submit", "--set", "name=a\u202eb"], None, 3, "unprintable character U+202E"),
    (["--url", "http://[::1", "jobs"], None, 2, "--url"),
    (["--url", "ftp://127.0.0.1", "jobs"], None, 2, "write http://HOST:PORT"),
    (["--url", "nonsense", "jobs"], None, 2, "write http://HOST:PORT"),
    (["--url", "http://127.0.0.1:9", "jobs"], None, 4, "no server answered"),
    (["--token", "sécret", "jobs"], None, 2, "a token is printable ASCII"),
    (["--token", "a\nb", "jobs"], None, 2, "a token is printable ASCII"),
    (["--token", "a b", "jobs"], None, 2, "a token is printable ASCII"),
    (["jobs", "--limit", "0"], None, 2, "--limit"),
    (["jobs", "--status", "nope"], None, 2, "--status"),
    (["show", "nosuchjob"], None, 3, "no job 'nosuchjob'"),
    (["show", "../jobs/x"], None, 2, "'../jobs/x' is not an id"),
    (["cancel", "nosuchjob"], None, 3, "HTTP 404"),
    (["export", "nosuchjob"], None, 3, "HTTP 404"),
    (["export", "nosuchjob", "-o", "/nonexistent/x.csv"], None, 2, "no folder '/nonexistent'"),
    (["export", "nosuchjob", "--format", "xml"], None, 2, "--format"),
    (["datasets", "delete", "../jobs/x"], None, 2, "'../jobs/x' is not an id"),
    (["datasets", "upload", "/dev/zero"], None, 2, "not a regular file"),
    (["datasets", "upload", "/nonexistent.csv"], None, 2, "does not exist"),
    (["datasets", "upload", "/"], None, 2, "is a directory"),
    (["lesson", "run", "nosuchlesson"], None, 3, "HTTP 404"),
    (["lesson", "run", "bias", "--seed", "abc"], None, 2, "--seed"),
    (["nosuchcommand"], None, 2, "No such command"),
    (["serve", "--port", "99999"], None, 2, "--port"),
    (["serve", "--port", "-1"], None, 2, "--port"),
    (["serve", "--workers", "0"], None, 2, "--workers"),
    (["serve", "--workers", "many"], None, 2, "--workers"),
    (["serve", "--database-url", "nonsense"], None, 2, "cannot open 'nonsense'"),
    (["serve", "--database-url", "nosuchdialect://x"], None, 2, "cannot open"),
    (["serve", "--database-url", "sqlite:////nonexistent/folder/x.db"], None, 2, "unable to open database file"),
]


def test_no_bad_invocation_gets_a_traceback_only_its_exit_code_and_one_line(server: LiveServer, tmp_path: Path) -> None:
    def run(case: tuple[list[str], str | None, int, str]) -> str | None:
        args, stdin, code, says = case
        result = trainscope(server.url, *args, stdin=stdin)
        last = (result.stderr.strip().splitlines() or [""])[-1]
        if "Traceback" in result.stderr or result.returncode != code or says not in last:
            return f"{args}: exit {result.returncode} (wanted {code}), said {result.stderr[-500:]!r}"
        return None

    big = tmp_path / "big.csv"
    with big.open("wb") as file:
        file.truncate(9 * 2**20)  # past max_upload_bytes (8 MB): refused before a byte is sent
    latin1 = tmp_path / "spec.json"
    latin1.write_bytes('{"name": "café"}'.encode("latin-1"))  # not UTF-8
    cases = [
        *BAD_INVOCATIONS,
        (["datasets", "upload", str(big)], None, 3, "this server takes at most 8,388,608"),
        (["submit", str(latin1)], None, 2, "not a JSON spec"),
    ]
    with ThreadPoolExecutor(4) as pool:
        wrong = [problem for problem in pool.map(run, cases) if problem]
    assert not wrong, "\n".join(wrong)
