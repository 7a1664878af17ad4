"""TFDS source, offline: ``tfds.testing.mock_data`` stands in for a prepared dataset."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds
from conftest import HANG_GUARD_S

from aejax.data import tfds_source
from aejax.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def test_mocked_load_matches_the_raw_source(tmp_path):
    with tfds.testing.mock_data(num_examples=300):
        ds = tfds_source.load("mnist", "train", data_dir=str(tmp_path))
        raw = tfds.data_source("mnist", split="train", data_dir=str(tmp_path))
        reference = np.stack([raw[i]["image"] for i in range(len(raw))])
        ref_labels = np.array([raw[i]["label"] for i in range(len(raw))])
        head = tfds_source.load("mnist", "train", data_dir=str(tmp_path), max_examples=7)
    assert ds.images.shape == (300, 28, 28, 1) and ds.images.dtype == np.float32
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    np.testing.assert_allclose(ds.images, reference.astype(np.float64) / 255.0, atol=1e-6)
    np.testing.assert_array_equal(ds.labels, ref_labels)
    assert ds.labels.dtype == np.int32 and ds.labels.max() < 10
    assert ds.info.num_classes == 10 and ds.info.shape == (28, 28, 1)
    assert ds.info.name == "tfds:mnist"
    assert len(head) == 7
    np.testing.assert_array_equal(head.images, ds.images[:7])


def test_grain_batches_shuffle_each_epoch_deterministically(tmp_path):
    def run(seed):
        with tfds.testing.mock_data(num_examples=64):
            it = tfds_source.grain_batches(
                "mnist", "train", batch_size=16, seed=seed, num_epochs=2, data_dir=str(tmp_path)
            )
            return list(it)

    batches = run(seed=5)
    assert len(batches) == 8
    for b in batches:
        assert b["image"].shape == (16, 28, 28, 1) and b["image"].dtype == np.float32
        assert b["label"].shape == (16,) and b["label"].dtype == np.int32
        assert 0.0 <= b["image"].min() and b["image"].max() <= 1.0
    rows = [img.tobytes() for b in batches for img in b["image"]]
    epoch1, epoch2 = rows[:64], rows[64:]
    assert sorted(epoch1) == sorted(epoch2)  # each epoch is a permutation of the same examples
    assert epoch1 != epoch2  # shuffled differently
    again = run(seed=5)
    assert all(np.array_equal(a["image"], b["image"]) for a, b in zip(batches, again, strict=True))
    other = run(seed=6)
    assert not all(
        np.array_equal(a["image"], b["image"]) for a, b in zip(batches, other, strict=True)
    )


def test_not_prepared_dataset_says_how_to_build_it(tmp_path):
    with pytest.raises(DataError, match="tfds build mnist") as e:
        tfds_source.load("mnist", "train", data_dir=str(tmp_path))
    assert "not prepared" in str(e.value) and str(tmp_path) in str(e.value)
    assert "data.dir" in str(e.value)


def test_unknown_catalog_name(tmp_path):
    with pytest.raises(DataError, match="not a TFDS catalog dataset") as e:
        tfds_source.load("mnisst", "train", data_dir=str(tmp_path))
    assert "mnist" in str(e.value) and "list_builders" in str(e.value)


def test_missing_image_key(tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        with pytest.raises(DataError, match="no key 'pixels'; keys: image, label"):
            tfds_source.load("mnist", "test", data_dir=str(tmp_path), image_key="pixels")


def test_import_is_lazy_and_tfds_path_needs_no_tensorflow(tmp_path):
    code = f"""
import sys
import aejax.data
assert "tensorflow_datasets" not in sys.modules, "aejax.data imported tfds"
assert "grain" not in sys.modules, "aejax.data imported grain"
import tensorflow_datasets as tfds
from aejax.data import load_split
with tfds.testing.mock_data(num_examples=8):
    ds = load_split("tfds:mnist", "test", data_dir={str(tmp_path)!r})
assert ds.images.shape == (8, 28, 28, 1)
assert "tensorflow" not in sys.modules, "the TFDS path imported tensorflow"
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=HANG_GUARD_S
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
