"""scripts/launch_tpu.sh: what ``--dry_run`` prints is the exact gcloud command and the command
every worker runs; that worker command, run here with a stand-in for the venv's python, starts
the trainer in the background with the flags intact and refuses a second start; bad usage is one
line and exit status 2. No gcloud is needed."""

from __future__ import annotations

import os
import shlex
import subprocess
import time

import pytest
from conftest import REPO

SCRIPT = str(REPO / "scripts" / "launch_tpu.sh")
# A flag with spaces, both kinds of quotes and a `$` that must reach train.py as it is.
FLAGS = [
    "--config",
    "experiments/vae_mnist.py",
    "--workdir",
    "gs://my-bucket/runs/vae mnist",
    '--config.data.name=it\'s a "test" $HOME `x`',
    "--config.train.num_epochs=2",
]


def _launch(*args, **kw):
    return subprocess.run(
        ["bash", SCRIPT, *args], capture_output=True, text=True, timeout=300, cwd=REPO, **kw
    )


def _dry_run(*args):
    proc = _launch("--dry_run", *args)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "# run here:" and lines[2].startswith("# runs on worker(s) ")
    assert len(lines) == 4
    return shlex.split(lines[1]), lines[3]


def _words(shell_text: str) -> list[str]:
    """The words bash makes of ``shell_text`` (the workers' shell is bash)."""
    out = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {shell_text}"], capture_output=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.decode().split("\0")[:-1]


def test_dry_run_prints_the_gcloud_command_and_the_worker_command():
    gcloud, worker = _dry_run("train", "my-tpu", "us-central2-b", "--", *FLAGS)
    assert gcloud == [
        "gcloud",
        "compute",
        "tpus",
        "tpu-vm",
        "ssh",
        "my-tpu",
        "--zone=us-central2-b",
        "--worker=all",
        "--command",
        worker,
    ]
    assert worker.startswith("cd ~/aejax || exit 2;")
    run = "AEJAX_MULTIHOST=1 nohup .venv/bin/python scripts/train.py "
    log = " >> ~/aejax-train-$(hostname).log 2>&1 < /dev/null &"
    assert run in worker and log in worker
    flags = worker[worker.index(run) + len(run) : worker.index(log)]
    assert _words(flags) == FLAGS  # quoted so that the worker's shell gives back every flag


def test_the_worker_command_starts_the_trainer_in_the_background_once(tmp_path):
    _, worker = _dry_run("train", "my-tpu", "us-central2-b", "--", *FLAGS)
    home = tmp_path / "home"
    python = home / "aejax" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    # Stands in for the venv's python: records what it got, then waits to be released.
    python.write_text(
        "#!/bin/bash\n"
        'pwd > "$HOME/cwd"; echo "$AEJAX_MULTIHOST" > "$HOME/multihost"\n'
        "echo 'training...'\n"
        'printf "%s\\0" "$@" > "$HOME/args.tmp" && mv "$HOME/args.tmp" "$HOME/args"\n'
        'while [ ! -e "$HOME/release" ]; do sleep 0.05; done\n'
    )
    python.chmod(0o755)
    env = dict(os.environ, HOME=str(home))
    started = subprocess.run(
        ["bash", "-c", worker], env=env, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stderr
    pid = int((home / "aejax-train.pid").read_text())
    host = subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip()
    assert started.stdout.startswith(f"{host}: started pid {pid}, log ")
    try:
        deadline = time.time() + 240  # a hang guard, not a speed check
        while not (home / "args").exists() and time.time() < deadline:
            time.sleep(0.05)
        assert (home / "args").read_bytes().decode().split("\0")[:-1] == [
            "scripts/train.py",
            *FLAGS,
        ]
        assert (home / "cwd").read_text().strip() == str(home / "aejax")
        assert (home / "multihost").read_text().strip() == "1"
        assert (home / f"aejax-train-{host}.log").read_text() == "training...\n"
        # While it runs, the same command refuses to start a second trainer.
        again = subprocess.run(
            ["bash", "-c", worker], env=env, capture_output=True, text=True, timeout=300
        )
        assert again.returncode == 2
        assert again.stderr.splitlines() == [
            f"error: {host}: training process {pid} is still running (scripts/launch_tpu.sh stop)"
        ]
        assert int((home / "aejax-train.pid").read_text()) == pid
    finally:
        (home / "release").touch()


def test_dry_run_of_setup_stop_and_logs():
    url = "https://example.org/aejax.git"
    gcloud, worker = _dry_run("setup", "my-tpu", "europe-west4-a", url, "dev")
    assert gcloud[5:9] == ["my-tpu", "--zone=europe-west4-a", "--worker=all", "--command"]
    assert f"git clone -q {url} ~/aejax" in worker and "git -C ~/aejax fetch -q origin" in worker
    assert worker.endswith(
        "cd ~/aejax && git checkout -q dev && git pull -q --ff-only && make install-tpu "
        'PYTHON=$PY && echo "$(hostname): ready"'
    )
    gcloud, worker = _dry_run("stop", "my-tpu", "europe-west4-a")
    assert 'kill -TERM "$(cat ~/aejax-train.pid)"' in worker
    gcloud, worker = _dry_run("logs", "my-tpu", "europe-west4-a", "3")
    assert gcloud[7] == "--worker=3" and worker == "tail -n 100 -F ~/aejax-train-$(hostname).log"


@pytest.mark.parametrize(
    "args, reason",
    [
        ([], "no command given"),
        (["train"], "train needs TPU_NAME and ZONE"),
        (["train", "my-tpu", "us-central2-b"], "train needs -- before the train flags"),
        (["train", "my-tpu", "us-central2-b", "--config", "x"], "needs -- before"),
        (["train", "my-tpu", "us-central2-b", "--"], "no train flags after --"),
        (
            ["train", "my-tpu", "us-central2-b", "--", "--config", "x"],
            "need --config and --workdir",
        ),
        (["deploy", "my-tpu", "us-central2-b"], "unknown command 'deploy'"),
        (["--verbose", "train"], "unknown option --verbose"),
        (["stop", "My TPU", "us-central2-b"], "TPU_NAME 'My TPU' is not a TPU name"),
        (["stop", "my-tpu", "central"], "ZONE 'central' is not a zone"),
        (["logs", "my-tpu", "us-central2-b", "first"], "WORKER 'first' is not a worker number"),
        (["stop", "my-tpu", "us-central2-b", "now"], "stop takes nothing after ZONE"),
    ],
)
def test_bad_usage_is_one_line_and_exit_status_2(args, reason):
    proc = _launch(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "; usage: " in lines[0]
    assert reason in lines[0]
