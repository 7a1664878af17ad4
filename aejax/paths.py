"""The one path abstraction: every file aejax reads or writes goes through here.

A workdir, ``data.dir`` or output path is a local path or a URI (``gs://bucket/runs/x``,
``s3://...``, any scheme etils.epath knows). :func:`resolve` turns either into an
``etils.epath.Path``; orbax takes the same paths, so checkpoints land beside the logs.

Object stores differ from a disk in two ways that matter here, and both are handled once, here:

- *No append.* :class:`AppendFile` appends on a local disk and, on a bucket, keeps the file's
  bytes and rewrites the object on :meth:`~AppendFile.flush` (as TensorFlow's GCS files and
  tensorboardX's GCS writer do). The train loop flushes before every checkpoint, so a rerun never
  misses a metrics row of a step it does not redo.
- *A missing client library or credentials surface late, deep in a library.*
  :func:`require_backend` imports the scheme's client packages first and
  :func:`check_writable` writes and deletes a probe file, so a run stops with one line before
  data loading and compilation.

TensorBoard event files reach the same place: :func:`register_tensorboard_scheme` gives
tensorboardX a writer for the scheme that writes through epath.
"""

from __future__ import annotations

import importlib
import io
import os
import time
import uuid
from collections.abc import Iterator

from etils import epath

from aejax.errors import AejaxError

Path = epath.Path
PathLike = str | os.PathLike

# Packages a scheme needs beyond etils itself: fsspec's filesystem for epath, and what orbax
# imports on that scheme (google-cloud-storage lists step directories on gs://).
BACKEND_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "gs": (("gcsfs", "gcsfs"), ("google.cloud.storage", "google-cloud-storage")),
    "s3": (("s3fs", "s3fs"),),
    "az": (("adlfs", "adlfs"),),
}
INSTALL_HINT = {"gs": "pip install -e .[gcs]"}


class PathError(AejaxError, OSError):
    """A workdir or output path cannot be used (missing client library, no access, no bucket)."""


def scheme(path: PathLike) -> str | None:
    """``"gs"`` for ``gs://b/x``; None for a local path (``C:\\x`` is local too)."""
    text = os.fspath(path)
    head, sep, _ = text.partition("://")
    return head if sep and len(head) > 1 else None


def is_remote(path: PathLike) -> bool:
    return scheme(path) is not None


def resolve(path: PathLike) -> epath.Path:
    """``path`` as an ``epath.Path``: URIs as they are, local paths made absolute.

    Local paths are made absolute because orbax (tensorstore) refuses relative checkpoint paths.
    """
    if isinstance(path, epath.Path) and is_remote(path):
        return path
    text = os.fspath(path)
    if is_remote(text):
        return epath.Path(text)
    return epath.Path(os.path.abspath(os.path.expanduser(text)))


def require_backend(path: PathLike) -> None:
    """Raises :class:`PathError` naming the packages to install when the scheme lacks a client.

    Cheap (imports only), so entry points call it before loading data or compiling.
    """
    s = scheme(path)
    if s is None:
        return
    missing = []
    for module, package in BACKEND_PACKAGES.get(s, ()):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        hint = INSTALL_HINT.get(s, "pip install " + " ".join(missing))
        raise PathError(
            f"{os.fspath(path)}: {s}:// paths need the package{'s' * (len(missing) > 1)} "
            f"{' and '.join(missing)}, which {'are' if len(missing) > 1 else 'is'} not "
            f"installed; run `{hint}`"
        )


def check_writable(directory: PathLike) -> epath.Path:
    """Creates ``directory`` and proves it writable by writing and deleting a probe file.

    Returns the resolved path. Raises :class:`PathError` with the path and the reason (no
    permission, no credentials, no such bucket) on one line. Nothing is left behind when it
    fails, except directories that already existed.
    """
    require_backend(directory)
    path = resolve(directory)
    probe = path / f".aejax-write-probe-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except Exception as e:  # each client library raises its own types; the user needs one line
        raise PathError(
            f"cannot write to {path}: {one_line(e)}; check the path, that the bucket exists "
            "and that your credentials may write there"
        ) from e
    return path


def one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": ")


def list_files(directory: PathLike) -> Iterator[tuple[str, epath.Path]]:
    """``(relative posix name, path)`` of every file under ``directory``, recursively.

    Built on ``iterdir`` because epath's ``walk`` yields roots without their scheme on buckets.
    """
    directory = resolve(directory)
    stack = [("", directory)]
    while stack:
        prefix, folder = stack.pop()
        for child in sorted(folder.iterdir(), key=lambda c: c.name):
            name = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((name + "/", child))
            else:
                yield name, child


def read_text(path: PathLike) -> str:
    return resolve(path).read_text()


def write_text(path: PathLike, text: str) -> None:
    """Writes ``text`` to ``path`` (replacing it whole: see :func:`write_bytes`), creating the
    parent directory."""
    write_bytes(path, text.encode())


def write_bytes(path: PathLike, data: bytes) -> None:
    """Writes ``data`` to ``path``, replacing it whole or not at all, creating the parent
    directory: a kill mid-write leaves the previous content (a log's earlier rows stay).

    Local: a temporary file beside it, renamed onto it (``os.replace`` is atomic). Remote: the
    object store's upload, which replaces an object only once complete.
    """
    path = resolve(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_remote(path):
        path.write_bytes(data)
        return
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def save_figure(fig, path: PathLike, **kwargs) -> None:
    """``fig.savefig`` to any path (matplotlib writes into a buffer; epath writes the bytes)."""
    buffer = io.BytesIO()
    fmt = kwargs.pop("format", None) or os.fspath(path).rsplit(".", 1)[-1]
    fig.savefig(buffer, format=fmt, **kwargs)
    write_bytes(path, buffer.getvalue())


class AppendFile:
    """A text file that only grows: ``write`` lines, ``flush`` to make them durable.

    Local: an ordinary file opened for append, flushed per :meth:`flush` (and line-buffered).
    Remote: the whole content is kept and the object rewritten on :meth:`flush` (object stores
    cannot append); ``flush_secs`` throttles the automatic flushes of :meth:`write` (0: every
    write). :meth:`close` always flushes.
    """

    def __init__(self, path: PathLike, *, flush_secs: float = 30.0):
        self.path = resolve(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._remote = is_remote(self.path)
        self._flush_secs = flush_secs
        self._last_flush = time.monotonic()
        self._dirty = False
        if self._remote:
            exists = self.path.exists()
            self._content = [self.path.read_text()] if exists else []
            if not exists:
                self.path.write_text("")
            self._file = None
        else:
            self._file = open(self.path, "a", buffering=1)  # noqa: SIM115

    def write(self, text: str) -> None:
        if self._file is not None:
            self._file.write(text)
            return
        self._content.append(text)
        self._dirty = True
        if time.monotonic() - self._last_flush >= self._flush_secs:
            self.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            return
        if self._dirty:
            joined = "".join(self._content)
            self._content = [joined]
            self.path.write_text(joined)
            self._dirty = False
        self._last_flush = time.monotonic()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._content is not None:
            self.flush()
            self._content = None


class _EpathRecordWriter:
    """tensorboardX record writer for a remote file: buffer, rewrite the object on flush."""

    def __init__(self, path: str):
        self._path = epath.Path(path)
        self._buffer = io.BytesIO()

    def write(self, data: bytes) -> None:
        self._buffer.write(data)

    def flush(self) -> None:
        self._path.write_bytes(self._buffer.getvalue())

    def close(self) -> None:
        self.flush()


class _EpathWriterFactory:
    """What tensorboardX's ``register_writer_factory`` expects: ``open`` and ``directory_check``."""

    def open(self, path: str) -> _EpathRecordWriter:
        return _EpathRecordWriter(path)

    def directory_check(self, path: str) -> None:
        epath.Path(path).mkdir(parents=True, exist_ok=True)


def register_tensorboard_scheme(path: PathLike) -> None:
    """Makes tensorboardX write event files under ``path``'s scheme through epath."""
    s = scheme(path)
    if s is None:
        return
    from tensorboardX import record_writer

    record_writer.register_writer_factory(s, _EpathWriterFactory())
