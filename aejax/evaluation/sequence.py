"""Per-frame errors of a sequence autoencoder's reconstructions and predictions, with baselines.

A sequence model reads the first ``context`` frames of each test sequence; its output for frames
``t < context`` is a reconstruction and for ``t >= context`` a prediction. Its output is the
likelihood's mean ``E[p(x | z)]`` at the posterior mode ``z`` (no sampling). Per frame ``t``,
averaged over test sequences and summed over the frame's pixels:

* ``mse[t] = sum (x_hat - x)^2`` (squared error in pixel units, intensities in [0, 1]);
* ``bce[t] = -sum x log p + (1 - x) log(1 - p)`` in nats, with ``p = x_hat`` clipped to
  ``[1e-6, 1 - 1e-6]``.

Baselines for the same frames:

* ``copy_last`` (predictions only): every future frame is the last observed frame. A copied binary
  frame has no probabilities, so its BCE uses ``p = eps + (1 - 2 eps) x_last`` with ``eps`` the
  fraction of future pixels where the copy is wrong, the ``eps`` that minimises its BCE on these
  sequences (so the baseline is given its best calibration).
* ``framewise``: an image autoencoder without recurrence, applied to single frames; observed
  frames are its reconstructions, and every future frame is its reconstruction of the last
  observed frame (it has no model of motion).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import numpy as np

from aejax import paths
from aejax.evaluation.images import save_grid

CLIP = 1e-6


def model_means(model, variables, images: np.ndarray, batch_size: int) -> np.ndarray:
    """``E[p(x | z = mode q(z|x))]`` for ``images: [N, ...]`` in batches; same shape as the
    decoder's event (``[N, T, H, W, C]`` for a sequence model, ``[N, H, W, C]`` for frames)."""

    @jax.jit
    def means(x):
        return model.apply(variables, x, method=lambda m, x: m.decode(m.encode(x).mode()).mean())

    out = [np.asarray(means(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32)


def frame_errors(pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """``{"mse": [T], "bce": [T]}`` for ``pred``, ``target: [N, T, H, W, C]``: per frame, summed
    over pixels, averaged over the ``N`` sequences (see the module docstring)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if pred.shape != target.shape or pred.ndim != 5:
        raise ValueError(f"expected equal [N, T, H, W, C] shapes, got {pred.shape}, {target.shape}")
    p = np.clip(pred, CLIP, 1.0 - CLIP)
    bce = -(target * np.log(p) + (1.0 - target) * np.log1p(-p))
    axes = (2, 3, 4)
    return {
        "mse": ((pred - target) ** 2).sum(axes).mean(0),
        "bce": bce.sum(axes).mean(0),
    }


def copy_last(images: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The copy-last-frame predictor for frames ``context..T-1``.

    Returns ``(frames, probabilities, eps)``: the copied frames ``[N, T - context, H, W, C]``,
    the calibrated probabilities ``eps + (1 - 2 eps) * frames`` and ``eps`` (the mean absolute
    difference between copies and true frames, which minimises the BCE for binary frames).
    """
    future = images[:, context:]
    frames = np.repeat(images[:, context - 1 : context], future.shape[1], axis=1)
    eps = float(np.clip(np.abs(frames - future).mean(), CLIP, 0.5))
    return frames, eps + (1.0 - 2.0 * eps) * frames, eps


def framewise(model, variables, images: np.ndarray, context: int, batch_size: int) -> np.ndarray:
    """A frame-wise image autoencoder on ``images [N, T, H, W, C]``: its reconstructions of the
    observed frames, then its reconstruction of the last observed frame repeated."""
    n, t = images.shape[:2]
    recon = model_means(
        model, variables, images[:, :context].reshape(-1, *images.shape[2:]), batch_size
    )
    recon = recon.reshape(n, context, *images.shape[2:])
    return np.concatenate([recon, np.repeat(recon[:, -1:], t - context, axis=1)], axis=1)


def summarise(per_frame: Mapping[str, Mapping[str, np.ndarray]], context: int) -> dict:
    """Means over the observed frames (``recon_*``) and the predicted frames (``pred_*``) of each
    predictor's per-frame errors, plus the per-frame lists (frame index = list index; ``copy_last``
    lists the predicted frames only)."""
    out: dict = {"per_frame": {}}
    for name, errors in per_frame.items():
        out["per_frame"][name] = {k: [float(v) for v in vals] for k, vals in errors.items()}
        for metric, vals in errors.items():
            vals = np.asarray(vals)
            if name == "copy_last":
                out[f"{name}_pred_{metric}"] = float(vals.mean())
                continue
            out[f"{name}_recon_{metric}"] = float(vals[:context].mean())
            if len(vals) > context:
                out[f"{name}_pred_{metric}"] = float(vals[context:].mean())
    return out


def evaluate(
    model,
    variables,
    images: np.ndarray,
    context: int,
    *,
    batch_size: int,
    baseline=None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Per-frame errors of the model and the baselines on test sequences ``[N, T, H, W, C]``.

    ``baseline``: optional ``(model, variables)`` of a frame-wise image autoencoder. Returns
    ``(metrics, predictions)``; ``predictions`` maps each predictor to ``[N, T, H, W, C]``
    (``copy_last`` repeats the observed frames for ``t < context``).
    """
    images = np.asarray(images, np.float32)
    preds = {"convlstm": model_means(model, variables, images, batch_size)}
    per_frame = {"convlstm": frame_errors(preds["convlstm"], images)}
    if images.shape[1] > context:
        frames, probs, eps = copy_last(images, context)
        future = images[:, context:]
        per_frame["copy_last"] = {
            "mse": frame_errors(frames, future)["mse"],
            "bce": frame_errors(probs, future)["bce"],
        }
        preds["copy_last"] = np.concatenate([images[:, :context], frames], axis=1)
    if baseline is not None:
        preds["framewise"] = framewise(*baseline, images, context, batch_size)
        per_frame["framewise"] = frame_errors(preds["framewise"], images)
    metrics = summarise(per_frame, context)
    if "copy_last" in per_frame:
        metrics["copy_last_eps"] = eps
    return metrics, preds


def strip(
    images: np.ndarray,
    preds: Mapping[str, np.ndarray],
    path: paths.PathLike,
    context: int,
    *,
    num: int = 4,
) -> paths.Path:
    """PNG: for each of the first ``num`` sequences a row of true frames, then one row per
    predictor; columns are frames, titled ``obs t`` (observed) or ``pred t``."""
    t = images.shape[1]
    rows, labels = [], []
    for i in range(min(num, len(images))):
        rows.append(images[i])
        labels.append(f"true {i}")
        for name, pred in preds.items():
            rows.append(pred[i])
            labels.append(name)
    titles = [f"{'obs' if j < context else 'pred'} {j}" for j in range(t)] * len(rows)
    return save_grid(np.concatenate(rows), path, t, titles, row_labels=labels)


def evaluate_run(run, test, workdir, *, batch_size: int, baseline_workdir=None) -> list:
    """``scripts/evaluate.py`` for a sequence run: writes ``eval.json`` (the metrics of
    :func:`evaluate`, prefixed ``test_``) and ``sequence_strip.png``; returns the paths written.

    ``run``: a :class:`~aejax.train.restore.TrainedRun` of a sequence model; ``test``: its test
    split; ``baseline_workdir``: optional frame-wise image autoencoder run on the same frames.
    """
    import json
    import time

    from aejax.errors import DataError
    from aejax.train.restore import load_trained

    workdir = paths.resolve(workdir)
    context = run.experiment.model.encoder.context_frames
    baseline, notes = None, []
    if baseline_workdir is not None:
        base = load_trained(baseline_workdir)
        if tuple(base.image_shape) != tuple(test.images.shape[2:]):
            raise DataError(
                f"--baseline_workdir {baseline_workdir} holds a model of images "
                f"{tuple(base.image_shape)}, but these sequences have frames "
                f"{tuple(test.images.shape[2:])}; train it on data.moving_sprites.frames=True "
                "with the same resolution"
            )
        baseline = (base.experiment.model, base.variables)
        notes.append(f"framewise: {baseline_workdir} at step {base.step}")
    start = time.perf_counter()
    metrics, preds = evaluate(
        run.experiment.model,
        run.variables,
        test.images,
        context,
        batch_size=batch_size,
        baseline=baseline,
    )
    result = {f"test_{k}": v for k, v in metrics.items()}
    result.update(
        step=run.step,
        num_test=len(test.images),
        context_frames=context,
        num_frames=int(test.images.shape[1]),
        units="per frame: squared error / binary cross-entropy (nats) summed over its pixels, "
        "averaged over sequences; recon = observed frames, pred = predicted frames",
        dataset=run.experiment.data.name,
        eval_wall_time_s=time.perf_counter() - start,
        notes=notes,
    )
    eval_path = workdir / "eval.json"
    paths.write_text(eval_path, json.dumps(result, indent=2) + "\n")
    png = strip(test.images, preds, workdir / "sequence_strip.png", context)
    summary = ", ".join(
        f"{k} {metrics[k]:.4g}" for k in sorted(metrics) if k.endswith(("_mse", "_bce"))
    )
    print(f"step {run.step}, {len(test.images)} test sequences: {summary}")
    return [eval_path, png]
