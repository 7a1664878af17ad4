"""Planetoid loader: the published files, any folder in the same format, malformed files
(issue 7, R7) and PubMed without its feature file (R6)."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import HANG_GUARD_S, PYTHON, REPO, SHARED_DATA, script_env
from planetoid_files import csr_pickle, csr_state, py2_dumps, sbm_graph, write_planetoid

from aejax.data.planetoid import load_planetoid
from aejax.errors import DataError

PLANETOID = SHARED_DATA / "planetoid"
needs_data = pytest.mark.skipif(not PLANETOID.exists(), reason="shared Planetoid data absent")


def _toy(n=30, f=5, seed=0):
    labels, edges = sbm_graph(n, 3, 0.4, 0.05, seed)
    rng = np.random.default_rng(seed)
    features = (rng.random((n, f)) * (rng.random((n, f)) < 0.5)).astype(np.float32)
    return features, labels, edges


def test_any_folder_in_the_format_loads_exactly(tmp_path):
    features, labels, edges = _toy()
    write_planetoid(tmp_path / "planetoid", "toy", features, labels, edges, num_test=8)
    # data_dir may be the folder itself or its parent holding planetoid/
    for where in (tmp_path / "planetoid", tmp_path):
        g = load_planetoid("toy", where)
        np.testing.assert_array_equal(g.features, features)  # tx rows reordered by test.index
        np.testing.assert_array_equal(g.labels, labels)
        np.testing.assert_array_equal(g.edges, edges)
        assert (g.num_nodes, g.num_classes) == (30, 3)


def _bad_csr(field, value):
    features, _, _ = _toy()
    state = csr_state(features[:22])
    state[field] = value(state) if callable(value) else value
    return csr_pickle(state)


MALFORMED_CSR = {
    "indptr too short": ("indptr", lambda s: s["indptr"][:-1], "indptr has 22 entries"),
    "indptr decreasing": ("indptr", lambda s: s["indptr"][::-1].copy(), "must rise from 0"),
    "indptr end != nnz": ("indptr", lambda s: s["indptr"] + 1, "must rise from 0"),
    "column index too large": ("indices", lambda s: s["indices"] + 5, "outside \\[0, 5\\)"),
    "negative column index": ("indices", lambda s: s["indices"] - 1, "outside \\[0, 5\\)"),
    "float index array": ("indices", lambda s: s["indices"].astype(np.float32), "indices"),
    "2-D index array": ("indices", lambda s: s["indices"][:, None], "indices"),
    "data/indices length mismatch": ("data", lambda s: s["data"][:-1], "data has"),
    "data not an array": ("data", [1.0, 2.0], "data should be a 1-D array"),
    "NaN data": ("data", lambda s: np.full_like(s["data"], np.nan), "NaN"),
    "shape of three": ("_shape", (22, 5, 1), "not a pair"),
    "negative shape": ("_shape", (-22, 5), "not a pair"),
    "shape rows mismatch": ("_shape", (21, 5), "indptr has 23 entries"),
    "csc format": ("format", "csc", "expected 'csr'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_CSR))
def test_malformed_sparse_matrix_is_a_data_error_naming_the_file(case, tmp_path):
    field, value, reason = MALFORMED_CSR[case]
    features, labels, edges = _toy()
    write_planetoid(
        tmp_path, "toy", features, labels, edges, 8, overrides={"allx": _bad_csr(field, value)}
    )
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "ind.toy.allx"))) as info:
        load_planetoid("toy", tmp_path)
    assert re.search(reason, str(info.value)), str(info.value)


@pytest.mark.parametrize(
    ("suffix", "data", "reason"),
    [
        ("allx", py2_dumps(np.zeros((22, 5), np.float32)), "should hold a scipy csr_matrix"),
        ("tx", csr_pickle(csr_state(np.ones((8, 4), np.float32))), "feature columns"),
        ("tx", csr_pickle(csr_state(np.ones((7, 5), np.float32))), "rows; expected"),
        ("ally", py2_dumps(np.full((22, 3), 2, np.int32)), "one-hot"),
        ("ty", py2_dumps(np.eye(2, dtype=np.int32)[np.zeros(8, int)]), "label columns"),
        ("graph", py2_dumps([1, 2, 3]), "node -> neighbour list"),
        ("graph", py2_dumps({0: ["a"]}), "not a node id"),
        ("test.index", b"1\nzwei\n", "one integer node id per line"),
        ("test.index", b"25\n25\n", "distinct node ids"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 12 else None,
)
def test_malformed_files_name_themselves(suffix, data, reason, tmp_path):
    features, labels, edges = _toy()
    write_planetoid(tmp_path, "toy", features, labels, edges, 8, overrides={suffix: data})
    with pytest.raises(DataError, match=re.escape(f"ind.toy.{suffix}")) as info:
        load_planetoid("toy", tmp_path)
    assert reason in str(info.value)


def test_missing_feature_file_stops_with_one_line_and_the_featureless_option(tmp_path):
    features, labels, edges = _toy()
    write_planetoid(tmp_path, "pubmed", features, labels, edges, 8, skip=("allx",))
    with pytest.raises(DataError) as info:
        load_planetoid("pubmed", tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "ind.pubmed.allx") in message and "graph.features=False" in message
    g = load_planetoid("pubmed", tmp_path, features=False)
    assert g.features is None and g.num_nodes == 30


def test_cli_pubmed_with_features_is_one_clear_line(tmp_path):
    features, labels, edges = _toy()
    write_planetoid(tmp_path, "pubmed", features, labels, edges, 8, skip=("allx",))
    proc = subprocess.run(
        [
            PYTHON,
            str(REPO / "scripts" / "train.py"),
            "--config",
            "experiments/vgae_cora.py",
            "--workdir",
            str(tmp_path / "run"),
            "--config.data.name=planetoid:pubmed",
            f"--config.data.dir={tmp_path}",
        ],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ind.pubmed.allx is missing" in lines[0]
    assert "--config.graph.features=False" in lines[0]


@needs_data
@pytest.mark.parametrize(
    # Published counts (shared/data/README.md; Kipf & Welling 2016/2017): nodes, undirected
    # edges without duplicates or self-loops, features, classes, nodes without a label.
    ("name", "nodes", "edges", "features", "classes", "unlabelled"),
    [("cora", 2708, 5278, 1433, 7, 0), ("citeseer", 3327, 4552, 3703, 6, 15)],
)
def test_published_files_match_published_counts(name, nodes, edges, features, classes, unlabelled):
    g = load_planetoid(name, PLANETOID)
    assert (g.num_nodes, len(g.edges), g.features.shape, g.num_classes) == (
        nodes,
        edges,
        (nodes, features),
        classes,
    )
    assert int((g.labels < 0).sum()) == unlabelled
    assert np.all(g.edges[:, 0] < g.edges[:, 1]) and len(np.unique(g.edges, axis=0)) == edges
    # Cora/CiteSeer features are binary bag-of-words indicators
    assert set(np.unique(g.features)) <= {0.0, 1.0}


@needs_data
def test_published_pubmed_needs_the_featureless_option():
    with pytest.raises(DataError, match="ind.pubmed.allx is missing.*graph.features=False"):
        load_planetoid("pubmed", PLANETOID)
    g = load_planetoid("pubmed", PLANETOID, features=False)
    assert (g.num_nodes, len(g.edges), g.num_classes) == (19717, 44324, 3)
