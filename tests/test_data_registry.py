"""``load_split``: dispatch by name, option and split checks, and input validation."""

import gzip
import struct

import numpy as np
import pytest
import tensorflow_datasets as tfds

from aejax.data import ArrayDataset, DatasetInfo, describe_sources, idx, load_split, shapes
from aejax.data.base import validate_images
from aejax.errors import DataError


def _write_idx(directory, prefix, images, labels):
    directory.mkdir(parents=True, exist_ok=True)
    for kind, dims, arr in (("images", 3, images), ("labels", 1, labels)):
        arr = np.asarray(arr, np.uint8)
        data = struct.pack(f">{1 + dims}I", 2048 + dims, *arr.shape) + arr.tobytes()
        (directory / f"{prefix}-{kind}-idx{dims}-ubyte.gz").write_bytes(gzip.compress(data))


def test_shapes_with_options():
    ds = load_split("shapes", "test", options={"num_test": 40, "resolution": 32, "seed": 3})
    assert isinstance(ds, ArrayDataset) and isinstance(ds.info, DatasetInfo)
    assert ds.images.shape == (40, 32, 32, 1) and ds.factors.shape == (40, 5)
    np.testing.assert_array_equal(
        ds.factors, shapes.load("test", num_test=40, seed=3, resolution=32).factors
    )


def test_unknown_option_lists_valid_ones():
    with pytest.raises(
        DataError, match="unknown option.*'size'.*num_train, num_test, resolution, seed"
    ):
        load_split("shapes", "train", options={"size": 3})
    with pytest.raises(DataError, match="image_key, label_key, max_examples"):
        load_split("tfds:mnist", "train", options={"resolution": 3})


def test_unknown_split_lists_valid_ones():
    with pytest.raises(DataError, match="unknown split 'validation'; valid splits: train, test"):
        load_split("shapes", "validation")


def test_unknown_name_lists_valid_choices(tmp_path, monkeypatch):
    monkeypatch.setenv("AEJAX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(idx, "SYSTEM_DATA_DIR", tmp_path / "system")
    with pytest.raises(DataError, match="unknown dataset 'cifar'") as e:
        load_split("cifar", "train")
    for choice in ("shapes", "mnist", "fashion_mnist", "kmnist", "tfds:NAME"):
        assert choice in str(e.value)
    with pytest.raises(DataError, match="needs a TFDS catalog name"):
        load_split("tfds:", "train")
    # A known IDX name that is missing says where it looked instead.
    with pytest.raises(DataError, match="not found; tried"):
        load_split("kmnist", "train")


def test_idx_dataset_through_env_and_data_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    images, labels = rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)
    _write_idx(tmp_path / "fashion-mnist", "t10k", images, labels)
    monkeypatch.setenv("AEJAX_DATA_DIR", str(tmp_path))
    ds = load_split("fashion_mnist", "test")
    np.testing.assert_array_equal(ds.labels, labels)
    np.testing.assert_allclose(ds.images[..., 0] * 255, images, atol=1e-4)
    same = load_split("kmnist", "test", data_dir=str(tmp_path / "fashion-mnist"))
    np.testing.assert_array_equal(same.images, ds.images)
    assert same.info.name == "kmnist"


def test_tfds_prefix_dispatches_with_options(tmp_path):
    with tfds.testing.mock_data(num_examples=30):
        ds = load_split("tfds:mnist", "train", data_dir=str(tmp_path), options={"max_examples": 9})
    assert ds.images.shape == (9, 28, 28, 1) and ds.info.name == "tfds:mnist"


def test_nan_in_float_input_is_rejected(tmp_path):
    images = np.full((4, 8, 8, 1), 0.5, np.float32)
    images[2, 3, 4, 0] = np.nan
    examples = [{"image": images[i], "label": np.int64(i % 2)} for i in range(4)]

    def fake_source(self, split, **kwargs):
        return examples

    with tfds.testing.mock_data(as_data_source_fn=fake_source):
        with pytest.raises(DataError, match="NaN/Inf.*example 2"):
            load_split("tfds:mnist", "train", data_dir=str(tmp_path))
        examples[2]["image"] = np.full((8, 8, 1), 0.25, np.float32)
        ok = load_split("tfds:mnist", "train", data_dir=str(tmp_path))
    assert ok.images.dtype == np.float32 and float(ok.images[2].max()) == 0.25
    with pytest.raises(DataError, match="NaN/Inf"):
        validate_images(images, "direct")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        validate_images(images[:2] * 3.0, "direct")


def test_describe_sources_names_every_source():
    text = describe_sources()
    for word in (
        "shapes",
        "mnist",
        "fashion_mnist",
        "kmnist",
        "tfds:NAME",
        "AEJAX_DATA_DIR",
        "train, test",
    ):
        assert word in text
