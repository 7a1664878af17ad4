"""A manifest beside every checkpoint: checksums of its files, the config and the state's layout.

Orbax's own metadata says what a checkpoint *should* hold; the manifest lets us check what it
*does* hold before trusting it. ``WORKDIR/checkpoints/<step>/aejax_manifest.json`` is written into
orbax's temporary directory after every array file is written and before the directory is renamed
into place, so a complete checkpoint always has one and an interrupted save never does.

It records:
  ``step``, ``epoch`` and ``batch_in_epoch`` (the data position, see :mod:`aejax.train.epochs`);
  ``run`` (the flattened config, image shape and training-set size of the run);
  ``tree`` (``{leaf path: [dtype, shape]}`` of the saved :class:`TrainState`);
  ``state_sha256`` (sha256 over every leaf's bytes, compared after restoring);
  ``files`` (``{relative path: [size in bytes, sha256]}`` of every file orbax wrote; for the
  top-level files orbax rewrites when it commits, only their presence).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping

import jax
import numpy as np

from aejax import config_keys, paths
from aejax.types import PyTree

NAME = "aejax_manifest.json"
FORMAT = 1


def path_name(path) -> str:
    """``opt_state/0/mu/encoder/Dense_0/kernel``: the same for a dataclass field, a dict key or a
    namedtuple field, so trees compare with the dicts orbax stores them as."""
    parts = []
    for entry in path:
        for attr in ("key", "name", "idx"):
            if hasattr(entry, attr):
                parts.append(str(getattr(entry, attr)))
                break
        else:
            parts.append(str(entry))
    return "/".join(parts)


def tree_spec(tree: PyTree) -> dict[str, list]:
    """``{path name: [dtype name, shape]}`` for every leaf of ``tree`` (arrays or metadata)."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        out[path_name(path)] = [np.dtype(leaf.dtype).name, [int(d) for d in leaf.shape]]
    return out


def host_leaves(tree: PyTree) -> list[tuple[str, np.ndarray]]:
    """``[(path, numpy array)]`` in tree-flattening order (one device-to-host copy)."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    values = jax.device_get([leaf for _, leaf in flat])
    return [(path_name(p), np.asarray(v)) for (p, _), v in zip(flat, values, strict=True)]


def leaves_sha256(leaves: list[tuple[str, np.ndarray]]) -> str:
    """sha256 over every leaf's raw bytes in order (the same bytes ``params_sha256`` hashes)."""
    digest = hashlib.sha256()
    for _, value in leaves:
        digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def file_sha256(path: paths.Path) -> str:
    digest = hashlib.sha256()
    with paths.resolve(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(directory: paths.Path) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` of every file under ``directory`` but the manifest.

    Orbax rewrites its top-level files when it commits (``_CHECKPOINT_METADATA``; on a bucket
    also ``commit_success.txt``, written after the manifest), so top-level files get
    ``[None, None]``: only their presence is checked.
    """
    out = {}
    for name, path in paths.list_files(directory):
        if name == NAME or name.startswith(NAME + "."):
            continue
        out[name] = [path.stat().length, file_sha256(path)] if "/" in name else [None, None]
    return dict(sorted(out.items()))


def write(directory: paths.Path, content: Mapping) -> None:
    """Writes ``content`` plus the file listing of ``directory`` as its manifest.

    Checkpoints only count once committed after this returns (orbax renames the temporary
    directory into place, or on a bucket writes its commit file), so a save interrupted here
    never leaves a checkpoint that looks complete.
    """
    directory = paths.resolve(directory)
    text = json.dumps(
        dict(content, format=FORMAT, files=list_files(directory)), indent=1, sort_keys=True
    )
    if paths.is_remote(directory):  # an object appears whole when its upload completes
        (directory / NAME).write_text(text)
        return
    tmp = os.fspath(directory / (NAME + ".tmp"))
    with open(tmp, "w") as f:  # local: durable and atomic (fsync, then rename into place)
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.fspath(directory / NAME))


def read(directory: paths.Path) -> dict:
    """The manifest of ``directory``; raises ``ValueError`` with the reason when it is unusable."""
    path = paths.resolve(directory) / NAME
    if not path.exists():
        raise ValueError(f"{NAME} is missing (the save did not finish, or it was deleted)")
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{NAME} is unreadable ({type(e).__name__})") from e
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise ValueError(f"{NAME} has an unknown format (expected format {FORMAT})")
    return content


def check_files(directory: paths.Path, manifest: Mapping) -> None:
    """Every file the manifest lists exists with its size and sha256; raises ``ValueError``."""
    directory = paths.resolve(directory)
    for name, (size, sha) in manifest["files"].items():
        path = directory / name
        if not path.is_file():
            raise ValueError(f"file {name} is missing")
        if size is None:
            continue
        actual = path.stat().length
        if actual != size:
            raise ValueError(f"file {name} is {actual} bytes, expected {size} (truncated?)")
        if file_sha256(path) != sha:
            raise ValueError(f"file {name} has a different sha256 than when saved (corrupted)")


def compare_trees(got: Mapping[str, list], want: Mapping[str, list], what: str) -> None:
    """Same leaf paths, dtypes and shapes; raises ``ValueError`` naming the first difference."""
    missing = [k for k in want if k not in got]
    if missing:
        raise ValueError(f"{what} lacks {missing[0]} ({len(missing)} leaves missing)")
    extra = [k for k in got if k not in want]
    if extra:
        raise ValueError(f"{what} has {extra[0]}, which this model does not have")
    for k, (dtype, shape) in want.items():
        g_dtype, g_shape = got[k]
        if g_dtype != dtype or list(g_shape) != list(shape):
            raise ValueError(
                f"{what}: {k} is {g_dtype}{list(g_shape)}, the model expects {dtype}{list(shape)}"
            )


def config_differences(
    saved: Mapping, current: Mapping, ignore_prefixes: tuple[str, ...] = ()
) -> list[str]:
    """Flattened config keys whose values differ, except keys starting with an ignored prefix.

    ``saved`` is read with today's key names (:mod:`aejax.config_keys`); keys only one side has
    (a group dropped as unused, a key added to the schema since) are not compared.
    """
    saved, _ = config_keys.translate_flat(saved)
    return sorted(
        k
        for k in set(saved) & set(current)
        if _norm(saved.get(k)) != _norm(current.get(k))
        and not any(k.startswith(p) for p in ignore_prefixes)
    )


def _norm(value):
    return tuple(value) if isinstance(value, list) else value


def committed_steps(directory: paths.PathLike) -> list[int]:
    """Steps of the complete checkpoints with a manifest under ``directory``, from a listing of
    the directory alone (no orbax call: safe from a signal handler that interrupted one)."""
    try:
        entries = list(paths.resolve(directory).iterdir())
    except OSError:
        return []
    return sorted(int(p.name) for p in entries if p.name.isdigit() and (p / NAME).is_file())
