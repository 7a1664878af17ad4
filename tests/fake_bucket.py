"""A ``gs://`` bucket on the local disk, for tests of bucket workdirs without a cloud.

aejax's own code runs unchanged: its paths stay ``gs://...`` URIs and take every branch a bucket
takes (epath's fsspec backend, tensorboardX's registered writer, orbax's commit-file
checkpoints). Only the storage underneath is redirected, at the two places a client library
would talk to the network:

- fsspec: the ``gs``/``gcs`` protocol is a directory-prefix filesystem over ``ROOT/<bucket>/``.
  Like a bucket, it cannot append to an object, and a bucket that is not a directory under
  ``ROOT`` does not exist (writes fail with ``FileNotFoundError``).
- tensorstore (orbax's array writer): the GCS kvstore spec becomes a ``file`` spec under the
  same root, and the hierarchical-namespace probe (a GCS API call) answers no.

``python tests/fake_bucket.py ROOT SCRIPT ARGS...`` runs a script with the fake installed, so
tests can kill and rerun processes that write to ``gs://``.
"""

from __future__ import annotations

import io
import os
import runpy
import sys
import uuid

import fsspec
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem


class _Upload(io.FileIO):
    """A write to an object, as GCS does it: the bytes go to a hidden staging file (outside the
    bucket's listing) that replaces the object when closed, so a process killed mid-upload
    leaves the previous object, never a truncated one."""

    def __init__(self, root: str, target: str):
        staging = os.path.join(root, ".uploads")
        os.makedirs(staging, exist_ok=True)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self.target = target
        super().__init__(os.path.join(staging, uuid.uuid4().hex), "w")

    def close(self) -> None:
        if not self.closed:
            super().close()
            os.replace(self.name, self.target)


def install(root: str) -> None:
    """Routes ``gs://BUCKET/KEY`` to ``ROOT/BUCKET/KEY`` in this process."""
    root = os.path.abspath(root)

    class FakeGCS(DirFileSystem):
        protocol = ("gs", "gcs")

        def __init__(self, *args, **kwargs):
            kwargs.pop("finalize_on_close", None)  # a gcsfs option epath passes
            super().__init__(path=root, fs=LocalFileSystem(auto_mkdir=True), **kwargs)

        @classmethod
        def _strip_protocol(cls, path):
            if isinstance(path, list):
                return [cls._strip_protocol(p) for p in path]
            for prefix in ("gs://", "gcs://"):
                if path.startswith(prefix):
                    path = path[len(prefix) :]
            return path.rstrip("/")

        def _check_bucket(self, path: str) -> None:
            bucket = self._strip_protocol(path).split("/", 1)[0]
            if not os.path.isdir(os.path.join(root, bucket)):
                raise FileNotFoundError(f"404 The specified bucket does not exist: {bucket}")

        def open(self, path, mode="rb", *args, **kwargs):
            if "a" in mode:
                raise NotImplementedError("objects in a bucket cannot be appended to")
            self._check_bucket(path)
            if "w" in mode:  # an upload: the object appears whole on close, or not at all
                upload = _Upload(root, os.path.join(root, self._strip_protocol(path)))
                if "b" in mode:
                    return upload
                return io.TextIOWrapper(upload, encoding=kwargs.get("encoding") or "utf-8")
            return super().open(path, mode, *args, **kwargs)

        def makedirs(self, path, exist_ok=False):
            self._check_bucket(path)
            return super().makedirs(path, exist_ok=exist_ok)

        def mkdir(self, path, create_parents=True, **kwargs):
            self._check_bucket(path)
            return super().mkdir(path, create_parents=create_parents, **kwargs)

    fsspec.register_implementation("gs", FakeGCS, clobber=True)
    fsspec.register_implementation("gcs", FakeGCS, clobber=True)
    from etils.epath import backend

    type(backend.fsspec_backend)._get_filesystem.cache_clear()  # epath caches one per scheme

    from orbax.checkpoint._src.path import gcs_utils

    def kvstore(path: str) -> dict:
        bucket, key = gcs_utils.parse_gcs_path(path, add_trailing_slash=False)
        return {"driver": "file", "path": os.path.join(root, bucket, key)}

    gcs_utils.get_kvstore_for_gcs = kvstore
    gcs_utils.is_hierarchical_namespace_enabled = lambda path: False

    # The fake is the client library: aejax's check for gcsfs / google-cloud-storage passes.
    from aejax import paths

    paths.BACKEND_PACKAGES["gs"] = ()


if __name__ == "__main__":
    install(sys.argv[1])
    script = sys.argv[2]
    sys.argv = [script, *sys.argv[3:]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
