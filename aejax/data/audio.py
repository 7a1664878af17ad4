"""Generated audio clips: tones, chirps and noise bursts, deterministic from a seed.

Each clip is ``length`` samples at ``sample_rate`` Hz holding one event of one of three kinds
(the label): 0 a pure tone, 1 a linear chirp, 2 a burst of uniform white noise. The event starts
at a uniform onset in the first half of the clip, lasts a quarter to a half of the clip, has a
Hann envelope and a peak amplitude in [0.3, 0.9]; tone frequencies and chirp end frequencies are
log-uniform in [100 Hz, 0.45 * sample_rate]. Outside the event the clip is silent.

Layout: a clip is stored as an "image" ``[T, 1, 1]`` (``H = T`` steps, ``W = C = 1``), and the
signal ``s in [-1, 1]`` is mapped to ``x = (s + 1) / 2 in [0, 1]`` (silence is 0.5), so the
:class:`~aejax.data.base.ArrayDataset` contract holds. Model it with a Gaussian likelihood
(``model.likelihood=gaussian``) and a ``wavenet`` (or ``conv``) network; ``s = 2 x - 1`` recovers
the waveform.
"""

from __future__ import annotations

import zlib

import numpy as np

from aejax.data.base import ArrayDataset, DatasetInfo, validate_images
from aejax.errors import DataError

KINDS: tuple[str, ...] = ("tone", "chirp", "noise")
MIN_FREQUENCY_HZ = 100.0
MAX_FREQUENCY_FRACTION = 0.45  # of the sample rate (below Nyquist)
AMPLITUDE_RANGE = (0.3, 0.9)
_SPLITS = ("train", "test")


def split_rng(seed: int, split: str) -> np.random.Generator:
    """The generator of ``split``: seeded by ``(seed, crc32(split))``, so splits never overlap."""
    return np.random.default_rng([int(seed), zlib.crc32(split.encode())])


def sample_events(rng: np.random.Generator, n: int, length: int, sample_rate: int) -> dict:
    """The parameters of ``n`` events (arrays ``[n]``, times in samples, frequencies in Hz) and
    the uniform noise ``[n, length]`` a noise burst reads."""
    log_f = np.log([MIN_FREQUENCY_HZ, MAX_FREQUENCY_FRACTION * sample_rate])
    return dict(
        kind=rng.integers(0, len(KINDS), n).astype(np.int32),
        amplitude=rng.uniform(*AMPLITUDE_RANGE, n),
        duration=rng.integers(length // 4, length // 2 + 1, n),
        onset=rng.integers(0, length // 2, n),
        f0=np.exp(rng.uniform(*log_f, n)),
        f1=np.exp(rng.uniform(*log_f, n)),
        phase=rng.uniform(0.0, 2 * np.pi, n),
        noise=rng.uniform(-1.0, 1.0, (n, length)),
    )


def render(events: dict, length: int, sample_rate: int) -> np.ndarray:
    """The clips ``float64 [n, length]`` in [-1, 1] of :func:`sample_events`' ``events``."""
    e = {k: (v[:, None] if v.ndim == 1 else v) for k, v in events.items()}
    local = np.arange(length)[None, :] - e["onset"]  # samples since the onset
    inside = (local >= 0) & (local < e["duration"])
    envelope = np.where(inside, np.sin(np.pi * local / e["duration"]) ** 2, 0.0)  # Hann
    t = local / sample_rate  # seconds since the onset
    span = e["duration"] / sample_rate
    tone = np.sin(2 * np.pi * e["f0"] * t + e["phase"])
    # A linear chirp from f0 to f1 over the event: phase 2 pi (f0 t + (f1 - f0) t^2 / (2 span)).
    chirp = np.sin(2 * np.pi * (e["f0"] * t + (e["f1"] - e["f0"]) * t**2 / (2 * span)) + e["phase"])
    carrier = np.select([e["kind"] == 0, e["kind"] == 1], [tone, chirp], e["noise"])
    return e["amplitude"] * envelope * carrier


def info(length: int) -> DatasetInfo:
    return DatasetInfo(
        name="audio", shape=(length, 1, 1), num_classes=len(KINDS), source="generated"
    )


def load(
    split: str,
    *,
    num_train: int = 2000,
    num_test: int = 500,
    length: int = 1024,
    sample_rate: int = 8000,
    seed: int = 0,
) -> ArrayDataset:
    """Generates one split: ``float32 [N, length, 1, 1]`` in [0, 1]; labels are :data:`KINDS`
    indices."""
    if split not in _SPLITS:
        raise DataError(f"audio: unknown split '{split}'; valid splits: {', '.join(_SPLITS)}")
    n = num_train if split == "train" else num_test
    for name, value, low in (
        (f"num_{split}", n, 1),
        ("length", length, 8),
        ("sample_rate", sample_rate, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise DataError(f"audio: {name} must be an integer >= {low}, got {value!r}")
    events = sample_events(split_rng(seed, split), int(n), int(length), int(sample_rate))
    signals = render(events, int(length), int(sample_rate))
    images = ((signals + 1.0) / 2.0).astype(np.float32)[:, :, None, None]
    images = validate_images(images, f"audio/{split}")
    return ArrayDataset(images=images, labels=events["kind"], factors=None, info=info(int(length)))
