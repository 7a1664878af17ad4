"""IDX reader: round trips, every malformed-file error, checksums, directory resolution, MNIST."""

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from aejax.data import idx, load_split
from aejax.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def idx_bytes(array: np.ndarray) -> bytes:
    """Independent IDX encoder: big-endian header (magic, dims...) then uint8 data."""
    magic = 2051 if array.ndim == 3 else 2049
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()


def write_split(directory, split, images, labels, *, gz=True, style="-"):
    """Writes ``<prefix>-images-idx3-ubyte[.gz]`` (``style="."``: ``.idx3-ubyte``) and labels."""
    directory.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    paths = []
    for kind, dims, arr in (("images", 3, images), ("labels", 1, labels)):
        name = f"{prefix}-{kind}{style}idx{dims}-ubyte" + (".gz" if gz else "")
        data = idx_bytes(np.asarray(arr, np.uint8))
        (directory / name).write_bytes(gzip.compress(data) if gz else data)
        paths.append(directory / name)
    return paths


def random_split(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, np.uint8)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("style", ["-", "."])
def test_round_trip(tmp_path, gz, style):
    images, labels = random_split()
    write_split(tmp_path, "test", images, labels, gz=gz, style=style)
    ds = idx.load(tmp_path, "test", name="toy")
    assert ds.images.shape == (12, 28, 28, 1) and ds.images.dtype == np.float32
    np.testing.assert_array_equal(np.rint(ds.images[..., 0] * 255).astype(np.uint8), images)
    np.testing.assert_allclose(ds.images[..., 0], images / 255.0, atol=1e-7)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.labels.dtype == np.int32
    assert ds.info.num_classes == 10 and ds.info.shape == (28, 28, 1)
    assert ds.factors is None


def test_raw_and_gz_give_identical_arrays(tmp_path):
    images, labels = random_split(seed=3)
    write_split(tmp_path / "gz", "train", images, labels, gz=True)
    write_split(tmp_path / "raw", "train", images, labels, gz=False)
    a = idx.load(tmp_path / "gz", "train", name="toy")
    b = idx.load(tmp_path / "raw", "train", name="toy")
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)


def test_num_classes_grows_with_labels_beyond_nine(tmp_path):
    images, _ = random_split(n=3)
    write_split(tmp_path, "train", images, [0, 14, 3])
    assert idx.load(tmp_path, "train", name="toy").info.num_classes == 15


def test_wrong_magic(tmp_path):
    images, labels = random_split()
    img_path, lab_path = write_split(tmp_path, "train", images, labels, gz=False)
    lab_path.write_bytes(
        idx_bytes(labels.astype(np.uint8)).replace(b"\x00\x00\x08\x01", b"\x00\x00\x08\x03", 1)
    )
    with pytest.raises(DataError, match=r"magic number 2051, expected 2049") as e:
        idx.load(tmp_path, "train", name="toy")
    assert lab_path.name in str(e.value)


def test_truncated_body_names_file_and_byte_counts(tmp_path):
    images, labels = random_split(n=5)
    img_path, _ = write_split(tmp_path, "train", images, labels)
    data = idx_bytes(images)[:-100]
    img_path.write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match="truncated body") as e:
        idx.load(tmp_path, "train", name="toy")
    msg = str(e.value)
    assert img_path.name in msg
    assert f"expected {16 + 5 * 784} bytes" in msg and f"got {16 + 5 * 784 - 100}" in msg


def test_truncated_gzip_stream(tmp_path):
    images, labels = random_split(n=5)
    img_path, _ = write_split(tmp_path, "train", images, labels)
    img_path.write_bytes(img_path.read_bytes()[:-40])
    with pytest.raises(DataError, match="damaged or truncated"):
        idx.load(tmp_path, "train", name="toy")


def test_image_label_count_mismatch(tmp_path):
    images, labels = random_split(n=6)
    write_split(tmp_path, "train", images, labels[:5])
    with pytest.raises(DataError, match="6 images but .* has 5 labels"):
        idx.load(tmp_path, "train", name="toy")


def test_sha256_checked_on_uncompressed_bytes(tmp_path):
    images, labels = random_split()
    write_split(tmp_path, "train", images, labels)
    good = hashlib.sha256(idx_bytes(images)).hexdigest()
    # Keys may name the .gz or the raw file, in either spelling.
    ok = idx.load(tmp_path, "train", name="toy", expected_sha256={"train-images.idx3-ubyte": good})
    assert len(ok) == 12
    bad = "0" * 64
    with pytest.raises(DataError, match="sha256 mismatch") as e:
        idx.load(tmp_path, "train", name="toy", expected_sha256={"train-labels-idx1-ubyte.gz": bad})
    assert bad in str(e.value) and hashlib.sha256(idx_bytes(labels)).hexdigest() in str(e.value)


def test_known_mnist_checksums_apply_when_verifying(tmp_path):
    images, labels = random_split()
    write_split(tmp_path, "test", images, labels)
    with pytest.raises(DataError, match="sha256 mismatch"):
        idx.load(tmp_path, "test", name="mnist")
    assert len(idx.load(tmp_path, "test", name="mnist", verify=False)) == 12


def test_missing_files_and_bad_split(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        idx.load(tmp_path, "train", name="toy")
    with pytest.raises(DataError, match="valid splits: train, test"):
        idx.load(tmp_path, "validation", name="toy")


def test_missing_dataset_lists_every_path_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("AEJAX_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setattr(idx, "SYSTEM_DATA_DIR", tmp_path / "system")
    with pytest.raises(DataError) as e:
        idx.resolve_dir("fashion_mnist")
    msg = str(e.value)
    for p in (
        "env/fashion_mnist",
        "env/fashion-mnist",
        "system/fashion_mnist",
        "system/fashion-mnist",
    ):
        assert str(tmp_path / p) in msg
    assert "data.dir" in msg and "AEJAX_DATA_DIR" in msg
    assert "apt-get install dataset-fashion-mnist" in msg


def test_resolution_order_and_spellings(tmp_path, monkeypatch):
    monkeypatch.setenv("AEJAX_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(idx, "SYSTEM_DATA_DIR", tmp_path / "system")
    (tmp_path / "system" / "kmnist").mkdir(parents=True)
    assert idx.resolve_dir("kmnist") == tmp_path / "system" / "kmnist"
    (tmp_path / "fashion-mnist").mkdir()
    assert idx.resolve_dir("fashion_mnist") == tmp_path / "fashion-mnist"
    (tmp_path / "kmnist").mkdir()
    assert idx.resolve_dir("kmnist") == tmp_path / "kmnist"  # env var before the system dir


def test_explicit_data_dir(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        idx.resolve_dir("mnist", tmp_path / "nope")
    images, labels = random_split()
    write_split(tmp_path / "mnist", "train", images, labels)
    assert idx.resolve_dir("mnist", tmp_path / "mnist") == tmp_path / "mnist"
    assert idx.resolve_dir("mnist", tmp_path) == tmp_path / "mnist"  # parent of the folder


def _shared_mnist() -> Path:
    env = os.environ.get("AEJAX_DATA_DIR")
    return Path(env) / "mnist" if env else REPO.parent / "shared/data/mnist"


def test_real_mnist_or_clear_error():
    path = _shared_mnist()
    if path.is_dir():
        train = load_split("mnist", "train", data_dir=str(path))  # sha256 verified by default
        test = idx.load(path, "test", name="mnist", verify=True)
        assert len(train) == 60000 and len(test) == 10000
        np.testing.assert_array_equal(train.labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        np.testing.assert_array_equal(test.labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        assert train.images.shape == (60000, 28, 28, 1)
        assert float(train.images.max()) == 1.0 and float(train.images.min()) == 0.0
        assert np.bincount(train.labels).tolist()[:2] == [5923, 6742]
    else:
        with pytest.raises(DataError, match="does not exist"):
            load_split("mnist", "train", data_dir=str(path))
