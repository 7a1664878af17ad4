"""The generated audio dataset: determinism, layout, and each event against scipy's signals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from aejax.data import audio, load_split
from aejax.errors import DataError


def test_deterministic_from_seed_and_splits_differ():
    a = load_split("audio", "train", options=dict(num_train=40, length=256, seed=3))
    b = load_split("audio", "train", options=dict(num_train=40, length=256, seed=3))
    c = load_split("audio", "train", options=dict(num_train=40, length=256, seed=4))
    t = load_split("audio", "test", options=dict(num_test=40, length=256, seed=3))
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    assert not np.array_equal(a.images, t.images)
    assert a.images.shape == (40, 256, 1, 1) and a.images.dtype == np.float32
    assert a.images.min() >= 0.05 and a.images.max() <= 0.95  # |s| <= 0.9 -> [0.05, 0.95]
    assert set(a.labels.tolist()) == {0, 1, 2} and a.info.num_classes == 3


def test_events_match_scipy_tone_chirp_and_hann_envelope():
    length, rate = 512, 8000
    events = audio.sample_events(np.random.default_rng(0), 30, length, rate)
    clips = audio.render(events, length, rate)
    for i in range(30):
        on, dur, amp = events["onset"][i], events["duration"][i], events["amplitude"][i]
        t = np.arange(dur) / rate
        kind = audio.KINDS[events["kind"][i]]
        f0, f1, phase = events["f0"][i], events["f1"][i], events["phase"][i]
        if kind == "tone":
            carrier = np.sin(2 * np.pi * f0 * t + phase)
        elif kind == "chirp":  # scipy's chirp is a cosine with the phase in degrees
            carrier = signal.chirp(t, f0, dur / rate, f1, "linear", np.degrees(phase) - 90.0)
        else:
            carrier = events["noise"][i, on : on + dur]
        window = signal.windows.hann(dur, sym=False)  # periodic Hann = sin^2(pi n / dur)
        expected = np.zeros(length)
        expected[on : on + dur] = amp * window * carrier
        np.testing.assert_allclose(clips[i], expected, atol=1e-9)


def test_tone_spectrum_peaks_at_its_frequency():
    length, rate = 1024, 8000
    events = audio.sample_events(np.random.default_rng(1), 60, length, rate)
    clips = audio.render(events, length, rate)
    freqs = np.fft.rfftfreq(length, 1 / rate)
    for i in np.flatnonzero(events["kind"] == 0):
        peak = freqs[np.argmax(np.abs(np.fft.rfft(clips[i])))]
        # The Hann-windowed event spans >= 256 samples: the main lobe is within 2 * rate / 256 Hz.
        assert abs(peak - events["f0"][i]) < 2 * rate / (length // 4)


def test_bad_options_are_data_errors():
    with pytest.raises(DataError, match="audio: length must be an integer >= 8"):
        load_split("audio", "train", options=dict(length=4))
    with pytest.raises(DataError, match="unknown option"):
        load_split("audio", "train", options=dict(resolution=4))
