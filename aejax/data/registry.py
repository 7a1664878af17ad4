"""One entry point from a dataset name to an :class:`ArrayDataset`.

Names:
  ``"shapes"``: the generated dSprites-style sprites (:mod:`aejax.data.shapes`);
  ``"moving_sprites"``: generated sequences of bouncing sprites (:mod:`aejax.data.moving_sprites`);
  ``"audio"``: generated clips of tones, chirps and noise bursts (:mod:`aejax.data.audio`);
  ``"tfds:NAME"``: a prepared TFDS catalog dataset (:mod:`aejax.data.tfds_source`);
  anything else: a folder of MNIST-format IDX files (:mod:`aejax.data.idx`), e.g. ``"mnist"``,
  ``"fashion_mnist"``, ``"kmnist"``, found in ``data_dir`` or ``$AEJAX_DATA_DIR/<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aejax.data import audio, idx, moving_sprites, shapes, tfds_source
from aejax.data.base import ArrayDataset
from aejax.errors import DataError

SPLITS: tuple[str, ...] = ("train", "test")
IDX_DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "kmnist")
TFDS_PREFIX = "tfds:"

# Option keys each kind of source accepts (passed as keyword arguments to its ``load``).
OPTIONS: dict[str, tuple[str, ...]] = {
    "shapes": ("num_train", "num_test", "resolution", "seed"),
    "moving_sprites": (
        "num_train",
        "num_test",
        "resolution",
        "num_frames",
        "num_sprites",
        "frames",
        "seed",
    ),
    "audio": ("num_train", "num_test", "length", "sample_rate", "seed"),
    "tfds": ("image_key", "label_key", "max_examples"),
    "idx": ("verify", "expected_sha256"),
}


def describe_sources() -> str:
    """A few lines naming every dataset source, its options and where its data comes from."""

    def opts(kind: str) -> str:
        return ", ".join(OPTIONS[kind])

    return "\n".join(
        [
            f"shapes: generated dSprites-style sprites, 3 shapes x 6 scales x 40 orientations x "
            f"32 x 32 positions; options: {opts('shapes')}",
            f"moving_sprites: generated Moving-MNIST-style sequences [T, H, W, 1] of bouncing "
            f"shapes sprites; options: {opts('moving_sprites')}",
            f"{', '.join(IDX_DATASETS)} (or any folder of IDX files): MNIST-format files in "
            f"data.dir, ${idx.ENV_VAR}/<name> or {idx.SYSTEM_DATA_DIR}/<name>; "
            f"options: {opts('idx')}",
            f"tfds:NAME: a TFDS catalog dataset prepared as array-record in data.dir or "
            f"$TFDS_DATA_DIR (`tfds build NAME --file_format=array_record`); "
            f"options: {opts('tfds')}",
            f"audio: generated clips (tone, chirp, noise burst) as [T, 1, 1] in [0, 1]; "
            f"options: {opts('audio')}",
            f"splits: {', '.join(SPLITS)}",
        ]
    )


def source_kind(name: str) -> str:
    """``"shapes"``, ``"moving_sprites"``, ``"audio"``, ``"tfds"`` or ``"idx"``: which source
    serves dataset ``name``."""
    if name in ("shapes", "moving_sprites", "audio"):
        return name
    if name.startswith(TFDS_PREFIX):
        return "tfds"
    return "idx"


def yields_sequences(name: str, options: Mapping[str, Any]) -> bool:
    """Whether dataset ``name`` with ``options`` gives sequences ``[T, H, W, C]`` per example
    (``moving_sprites`` unless ``frames=True`` flattens them to single frames)."""
    return source_kind(name) == "moving_sprites" and not options.get("frames", False)


def _check_options(name: str, kind: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise DataError(f"data options must be a mapping, got {type(options).__name__}")
    unknown = sorted(set(options) - set(OPTIONS[kind]))
    if unknown:
        raise DataError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for dataset '{name}'; valid "
            f"options: {', '.join(OPTIONS[kind])}"
        )
    return dict(options)


def _unknown_dataset(name: str, cause: DataError) -> DataError:
    return DataError(
        f"unknown dataset '{name}'; valid choices: shapes, moving_sprites, audio, "
        f"{', '.join(IDX_DATASETS)}, "
        f"tfds:NAME (a TFDS catalog name), or a folder of IDX files at data.dir or "
        f"${idx.ENV_VAR}/{name} ({cause})"
    )


def load_split(
    name: str,
    split: str,
    *,
    data_dir: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> ArrayDataset:
    """Loads split ``split`` ("train" or "test") of dataset ``name`` into host memory.

    Args:
      name: ``"shapes"``, ``"tfds:NAME"``, or an IDX dataset name (``"mnist"``, ...).
      split: ``"train"`` or ``"test"``.
      data_dir: where the files are (IDX folder or TFDS data dir); ignored by ``shapes``.
      options: source-specific keyword arguments (see :data:`OPTIONS`).

    Returns:
      The split; images ``float32[N, H, W, C]`` in ``[0, 1]``.

    Raises:
      DataError: unknown name, split or option, or missing/damaged data.
    """
    if not isinstance(name, str) or not name:
        raise DataError(f"dataset name must be a non-empty string, got {name!r}")
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; valid splits: {', '.join(SPLITS)}")
    kind = source_kind(name)
    kwargs = _check_options(name, kind, options)
    if kind == "shapes":
        return shapes.load(split, **kwargs)
    if kind == "moving_sprites":
        return moving_sprites.load(split, **kwargs)
    if kind == "audio":
        return audio.load(split, **kwargs)
    if kind == "tfds":
        tfds_name = name[len(TFDS_PREFIX) :]
        if not tfds_name:
            raise DataError("'tfds:' needs a TFDS catalog name after it, e.g. tfds:mnist")
        return tfds_source.load(tfds_name, split, data_dir=data_dir, **kwargs)
    known = name.replace("-", "_").lower() in IDX_DATASETS
    try:
        directory = idx.resolve_dir(name, data_dir)
    except DataError as e:
        if known or data_dir is not None:
            raise
        raise _unknown_dataset(name, e) from e
    return idx.load(directory, split, name=name, **kwargs)
