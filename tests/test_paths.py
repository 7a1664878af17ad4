"""aejax.paths: URIs and local paths behave alike; object-store limits are handled in one place."""

from __future__ import annotations

import ast
import os
import pathlib
import subprocess

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, script_env
from etils import epath

from aejax import paths
from aejax.train.logging import MetricWriter, read_jsonl


@pytest.fixture
def bucket(tmp_path):
    """A fake ``gs://bucket`` under ``tmp_path/root`` for this process (see fake_bucket.py)."""
    import fake_bucket

    root = tmp_path / "root"
    (root / "bucket").mkdir(parents=True)
    fake_bucket.install(str(root))
    return root


def test_scheme_and_resolve(tmp_path, monkeypatch):
    assert paths.scheme("gs://b/x") == "gs" and paths.scheme("s3://b") == "s3"
    assert paths.scheme("runs/x") is None and paths.scheme("C:\\runs") is None
    monkeypatch.chdir(tmp_path)
    local = paths.resolve("runs/a")
    assert os.fspath(local) == os.path.join(str(tmp_path), "runs", "a")  # absolute, for orbax
    remote = paths.resolve("gs://b/runs/a")
    assert os.fspath(remote) == "gs://b/runs/a" and os.fspath(remote / "x") == "gs://b/runs/a/x"


def test_missing_client_library_is_one_line_naming_the_packages(monkeypatch):
    monkeypatch.setitem(
        paths.BACKEND_PACKAGES, "gs", (("aejax_no_such_module", "no-such-package"), ("json", "j"))
    )
    with pytest.raises(paths.PathError) as info:
        paths.require_backend("gs://b/runs/a")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("gs://b/runs/a: gs:// paths need the package no-such-package")
    assert "pip install -e .[gcs]" in message
    paths.require_backend("runs/local")  # local paths need nothing


def test_append_file_on_a_bucket_rewrites_the_object(bucket):
    path = "gs://bucket/runs/a/log.jsonl"
    f = paths.AppendFile(path, flush_secs=3600)
    f.write("1\n")
    f.write("2\n")
    assert paths.read_text(path) == ""  # object stores show an object whole, on flush
    f.flush()
    assert paths.read_text(path) == "1\n2\n"
    f.write("3\n")
    f.close()
    assert (bucket / "bucket/runs/a/log.jsonl").read_text() == "1\n2\n3\n"
    again = paths.AppendFile(path, flush_secs=0)  # reopening keeps what is there
    again.write("4\n")
    again.close()
    assert paths.read_text(path) == "1\n2\n3\n4\n"
    with pytest.raises(NotImplementedError):  # the fake refuses appends, as a bucket does
        paths.resolve(path).open("a")


def test_append_file_local_matches_remote(tmp_path):
    f = paths.AppendFile(tmp_path / "x.txt")
    f.write("a\n")
    f.flush()
    assert (tmp_path / "x.txt").read_text() == "a\n"
    f.write("b\n")
    f.close()
    assert (tmp_path / "x.txt").read_text() == "a\nb\n"


def test_check_writable_refuses_a_missing_bucket_and_leaves_nothing(bucket):
    with pytest.raises(paths.PathError) as info:
        paths.check_writable("gs://no-such-bucket/runs/a")
    message = str(info.value)
    assert "\n" not in message and message.startswith("cannot write to gs://no-such-bucket/runs/a")
    assert "bucket does not exist" in message
    assert sorted(p.name for p in bucket.iterdir()) == ["bucket"]
    ok = paths.check_writable("gs://bucket/runs/b")
    assert os.fspath(ok) == "gs://bucket/runs/b"
    assert list((bucket / "bucket/runs/b").iterdir()) == []  # the probe is gone


def test_list_files_recurses_with_relative_names(bucket):
    for name in ("a.txt", "d/b.bin", "d/e/c.bin"):
        paths.write_text(f"gs://bucket/ck/{name}", name)
    listed = [(n, os.fspath(p)) for n, p in paths.list_files("gs://bucket/ck")]
    assert sorted(listed) == [(n, f"gs://bucket/ck/{n}") for n in ("a.txt", "d/b.bin", "d/e/c.bin")]


def test_metric_writer_on_a_bucket_writes_jsonl_and_tensorboard(bucket):
    w = MetricWriter("gs://bucket/run", flush_secs=3600)
    for step in (10, 20):
        w.write(step, {"loss": step / 10, "kl": np.float32(1.5)})
    w.flush()
    assert [r["step"] for r in read_jsonl("gs://bucket/run/metrics.jsonl")] == [10, 20]
    w.close()
    events = list((bucket / "bucket/run/tb").iterdir())
    assert len(events) == 1 and events[0].name.startswith("events.out.tfevents")
    loss = [
        (e.step, v.simple_value)
        for e in _events(events[0].read_bytes())
        for v in e.summary.value
        if v.tag == "train/loss"
    ]
    assert loss == [(10, 1.0), (20, 2.0)]


def _events(data: bytes):
    """TFRecord framing (u64 length, u32 crc, payload, u32 crc) of Event protos."""
    import struct

    from tensorboardX.proto import event_pb2

    i = 0
    while i < len(data):
        (n,) = struct.unpack("<Q", data[i : i + 8])
        event = event_pb2.Event()
        event.ParseFromString(data[i + 12 : i + 12 + n])
        yield event
        i += 12 + n + 4


def test_save_figure_to_a_bucket(bucket):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    paths.save_figure(fig, "gs://bucket/plots/x.png")
    plt.close(fig)
    assert (bucket / "bucket/plots/x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_refuses_a_bucket_without_gcsfs_before_loading_data(tmp_path):
    """The package check comes first: the data dir here does not exist, yet the error is the
    missing client library (so no data was read and nothing compiled)."""
    cmd = [
        PYTHON,
        "-c",
        "import runpy, sys; sys.modules['gcsfs'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')",
        str(REPO / "scripts" / "train.py"),
        "--config",
        str(REPO / "tests" / "tiny_experiment.py"),
        "--workdir",
        "gs://bucket/runs/a",
        "--config.data.name=mnist",
        f"--config.data.dir={tmp_path / 'no-such-data'}",
    ]
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=script_env(), capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert lines[0].startswith("error: gs://bucket/runs/a: gs:// paths need the package")
    assert "gcsfs" in lines[0] and "pip install -e .[gcs]" in lines[0]
    assert list(tmp_path.iterdir()) == []  # no local gs: folder, nothing else


def test_library_reads_and_writes_files_only_through_paths():
    """No ``pathlib.Path(...)`` and no bare ``open(...)`` in the library outside aejax/paths.py
    (a workdir may be a bucket). Reading fixed local system files is listed explicitly."""
    allowed = {
        ("aejax/benchmarking.py", "open"),  # /proc/cpuinfo
        ("aejax/train/manifest.py", "open"),  # local-disk branch: fsync before rename
    }
    found = []
    for file in sorted((REPO / "aejax").rglob("*.py")):
        rel = file.relative_to(REPO).as_posix()
        if rel == "aejax/paths.py":
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = None
            if isinstance(f, ast.Name) and f.id == "open":
                name = "open"
            elif (
                isinstance(f, ast.Attribute)
                and f.attr == "Path"
                and isinstance(f.value, ast.Name)
                and f.value.id == "pathlib"
            ):
                name = "Path"
            if name and (rel, name) not in allowed:
                found.append(f"{rel}:{node.lineno} {name}(")
    assert found == []


def test_no_local_gs_folder_in_the_repository():
    assert not list(pathlib.Path(REPO).glob("gs:*"))


def _killed_mid_write(monkeypatch):
    """``epath.Path.write_bytes`` that writes half its data and then dies (as on a kill)."""
    real = epath.Path.write_bytes

    def dies_halfway(self, data):
        real(self, data[: len(data) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(epath.Path, "write_bytes", dies_halfway)


def test_a_rewrite_killed_midway_leaves_the_previous_content(tmp_path, monkeypatch):
    log = tmp_path / "examples.jsonl"
    paths.write_text(log, "row 0\nrow 1\n")
    _killed_mid_write(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        paths.write_text(log, "row 0\nrow 1\nrow 2\n")
    assert log.read_text() == "row 0\nrow 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["examples.jsonl"]  # no leftovers
    monkeypatch.undo()
    paths.write_text(log, "row 0\nrow 1\nrow 2\n")
    assert log.read_text() == "row 0\nrow 1\nrow 2\n"
