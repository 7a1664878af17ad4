"""The restricted unpickler refuses code-running pickles before anything runs (issue 7, R7).

Every payload is first shown to be live: the standard ``pickle.loads`` runs it and creates its
sentinel file. The restricted loader must refuse the same bytes with a DataError naming the file
and leave its own sentinel uncreated.
"""

from __future__ import annotations

import collections
import os
import pathlib
import pickle
import re
import subprocess

import numpy as np
import pytest
from planetoid_files import py2_dumps

from aejax.data import safe_pickle
from aejax.errors import DataError


class _Reduce:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _touch(s: pathlib.Path) -> str:
    return f"touch {s}"


def _open_code(s: pathlib.Path) -> str:
    return f"open({str(s)!r}, 'w').close()"


# name -> payload(sentinel) -> bytes; each creates ``sentinel`` when loaded by plain pickle.
PAYLOADS = {
    "os.system via GLOBAL (protocol 2)": lambda s: pickle.dumps(
        _Reduce(os.system, _touch(s)), protocol=2
    ),
    "eval via GLOBAL __builtin__ (protocol 2)": lambda s: pickle.dumps(
        _Reduce(eval, _open_code(s)), protocol=2
    ),
    "exec via STACK_GLOBAL (protocol 4)": lambda s: pickle.dumps(
        _Reduce(exec, _open_code(s)), protocol=4
    ),
    "subprocess.call via STACK_GLOBAL (protocol 5)": lambda s: pickle.dumps(
        _Reduce(subprocess.call, ["touch", str(s)]), protocol=5
    ),
    "hand-written GLOBAL + REDUCE (protocol 0)": lambda s: (
        f"cos\nsystem\n(S'{_touch(s)}'\ntR.".encode()
    ),
    "INST opcode": lambda s: f"(S'{_touch(s)}'\nios\nsystem\n.".encode(),
    "OBJ opcode": lambda s: b"\x80\x02(cos\nsystem\nS'" + _touch(s).encode() + b"'\no.",
    "__reduce__ payload nested in a defaultdict graph": lambda s: py2_dumps(
        collections.defaultdict(list, {0: [1, _Reduce(os.system, _touch(s))]})
    ),
    "payload inside an object-dtype numpy array": lambda s: pickle.dumps(
        np.array([_Reduce(os.system, _touch(s))], dtype=object), protocol=2
    ),
    "nested REDUCE: getattr(__import__('os'), 'system')(...)": lambda s: (
        "c__builtin__\ngetattr\n(c__builtin__\n__import__\n(S'os'\ntRS'system'\ntR"
        f"(S'{_touch(s)}'\ntR."
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_malicious_pickle_is_refused_without_side_effect(name, tmp_path):
    make = PAYLOADS[name]
    live = tmp_path / "live_sentinel"
    data = make(live)
    pickle.loads(data)  # the control: the payload really runs under the standard unpickler
    assert live.exists(), f"payload {name!r} is not live; the test would prove nothing"

    sentinel = tmp_path / "sentinel"
    path = tmp_path / "ind.evil.graph"
    path.write_bytes(make(sentinel))
    with pytest.raises(DataError, match=re.escape(str(path))):
        safe_pickle.load(path)
    assert not sentinel.exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x02cnumpy\ndtype\nU\x02O8K\x00K\x01\x87R.", "not a plain numeric dtype"),
        (b"\x80\x02ccollections\ndefaultdict\ncnumpy\nndarray\n\x85R.", "only with factory list"),
        (
            b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nccollections\ndefaultdict\n"
            b"K\x00\x85U\x01b\x87R.",
            "only for numpy.ndarray",
        ),
        (b"\x80\x02U\x01xQ.", "persistent ids"),
        (b"\x80\x02]q\x00(K\x01", "EOFError|truncated|UnpicklingError"),
    ],
    ids=["object-dtype", "defaultdict-factory", "reconstruct-class", "persistent-id", "truncated"],
)
def test_allowed_globals_cannot_be_misused(data, reason, tmp_path):
    path = tmp_path / "ind.bad.x"
    path.write_bytes(data)
    with pytest.raises(DataError, match=re.escape(str(path))) as info:
        safe_pickle.load(path)
    assert re.search(reason, str(info.value))


def test_package_has_no_unrestricted_unpickling():
    """No ``pickle.load(s)``, ``np.load(..., allow_pickle=True)`` or other Unpickler in aejax/."""
    root = pathlib.Path(__file__).resolve().parents[1] / "aejax"
    patterns = {
        "pickle.load": re.compile(r"\b(c?pickle|dill|joblib|_pickle)\.loads?\s*\("),
        "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
        "other Unpickler": re.compile(r"\bUnpickler\b"),
        "pandas.read_pickle": re.compile(r"read_pickle\s*\("),
    }
    offenders = []
    files = sorted(root.rglob("*.py"))
    assert len(files) > 20  # the scan really sees the package
    for path in files:
        text = path.read_text()
        for what, pattern in patterns.items():
            if what == "other Unpickler" and path.name == "safe_pickle.py":
                continue  # the restricted unpickler itself
            if pattern.search(text):
                offenders.append(f"{path.relative_to(root.parent)}: {what}")
    assert not offenders
