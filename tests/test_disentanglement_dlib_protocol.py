"""The ``dlib_study_v1`` protocol against disentanglement_lib's own values.

``tests/data/dlib_reference.json`` holds what disentanglement_lib's metric functions returned on
the inputs of :mod:`dlib_reference_cases` (how it was made: ``docs/dlib_reference.md``). Here
aejax computes the same metrics on the same inputs with the options of
``protocols.DLIB_STUDY``:

- MIG, DCI, SAP, modularity/explicitness on fixed (codes, factors) arrays: equal to the
  reference up to floating-point noise (DCI's tie-breaking included: see :mod:`.dci`);
- BetaVAE and FactorVAE scores on the factor combinations the reference drew (rebuilt from its
  ``RandomState(0)``): equal;
- the same two scores through :func:`compute_all_on`, which draws its own combinations: equal
  to the reference's study-size values within four standard errors of the two accuracies.

The protocol's settings are checked against the study's gin files as gin parsed them, and the
suite is checked to name the protocol it ran in ``eval.json`` and the report's headline.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import subprocess
import types

import numpy as np
import pytest
from dlib_reference_cases import (
    SIZES,
    beta_vae_draws,
    factor_vae_draws,
    fixed_arrays,
    represent,
    sha256,
)

from aejax.data.base import ArrayDataset, DatasetInfo
from aejax.errors import ConfigError
from aejax.evaluation import headline, suite
from aejax.evaluation.disentanglement import (
    PROTOCOLS,
    GroundTruth,
    beta_vae_from_codes,
    compute_all_on,
    dci_from_codes,
    factor_vae_from_codes,
    get_protocol,
    mig_from_codes,
    modularity_from_codes,
    protocols,
    sap_from_codes,
)

REFERENCE = json.loads((pathlib.Path(__file__).parent / "data" / "dlib_reference.json").read_text())
STUDY = protocols.DLIB_STUDY
TOY = GroundTruth(factor_sizes=SIZES, observe=lambda f: f.astype(np.float64))
TIGHT = dict(rel=1e-9, abs=1e-12)  # the same arithmetic on the same inputs


def _options(metric: str) -> dict:
    return STUDY.options(metric, TOY.categorical)


def _fixed():
    fixed = REFERENCE["fixed_arrays"]
    return fixed_arrays(REFERENCE["seed"], fixed["num_train"], fixed["num_test"])


def _codes_of(factors: np.ndarray) -> np.ndarray:
    """Codes ``[..., 6]`` of factor combinations ``[..., 3]``."""
    return represent(factors.reshape(-1, len(SIZES))).reshape(*factors.shape[:-1], -1)


def test_the_protocol_has_the_study_settings():
    s = REFERENCE["study_settings"]
    beta, factor = s["beta_vae_sklearn"], s["factor_vae_metric"]
    assert (STUDY.batch_size, STUDY.beta_vae_num_train, STUDY.beta_vae_num_eval) == (
        beta["beta_vae_sklearn.batch_size"],
        beta["beta_vae_sklearn.num_train"],
        beta["beta_vae_sklearn.num_eval"],
    )
    assert factor["factor_vae_score.batch_size"] == STUDY.batch_size
    assert (
        STUDY.factor_vae_num_train,
        STUDY.factor_vae_num_eval,
        STUDY.factor_vae_num_variance_estimate,
        STUDY.factor_vae_prune_std,
    ) == (
        factor["factor_vae_score.num_train"],
        factor["factor_vae_score.num_eval"],
        factor["factor_vae_score.num_variance_estimate"],
        factor["prune_dims.threshold"],
    )
    assert STUDY.num_train == s["mig"]["mig.num_train"]
    for config, prefix in (("dci", "dci"), ("sap_score", "sap_score")):
        assert (STUDY.num_train, STUDY.num_test) == (
            s[config][f"{prefix}.num_train"],
            s[config][f"{prefix}.num_test"],
        )
    mod = s["modularity_explicitness"]
    assert (STUDY.num_train, STUDY.num_test) == (
        mod["modularity_explicitness.num_train"],
        mod["modularity_explicitness.num_test"],
    )
    for config in ("mig", "modularity_explicitness"):
        assert s[config]["discretizer.num_bins"] == STUDY.num_bins
        assert s[config]["discretizer.discretizer_fn"] == "histogram_discretizer"
    assert STUDY.sap_all_categorical is not s["sap_score"]["sap_score.continuous_factors"]
    assert STUDY.dci_model == "gradient_boosting" and STUDY.fixed_sizes


def test_the_fixed_arrays_are_the_ones_the_reference_saw():
    names = ("codes_train", "factors_train", "codes_test", "factors_test")
    got = {name: sha256(a) for name, a in zip(names, _fixed(), strict=True)}
    assert got == REFERENCE["fixed_arrays"]["sha256"]


def test_mig_sap_and_modularity_equal_the_reference_on_fixed_arrays():
    ref = REFERENCE["fixed_arrays"]["values"]
    codes_train, factors_train, codes_test, factors_test = _fixed()
    mig = mig_from_codes(codes_train, factors_train, **_options("mig"))
    assert mig["mig"] == pytest.approx(ref["mig"]["discrete_mig"], **TIGHT)
    sap = sap_from_codes(*_fixed(), seed=0, **_options("sap"))
    assert sap["sap"] == pytest.approx(ref["sap_score"]["SAP_score"], **TIGHT)
    mod = modularity_from_codes(*_fixed(), **_options("modularity"))
    want = ref["modularity_explicitness"]
    assert mod["modularity"] == pytest.approx(want["modularity_score"], **TIGHT)
    assert mod["explicitness_train"] == pytest.approx(want["explicitness_score_train"], **TIGHT)
    assert mod["explicitness_test"] == pytest.approx(want["explicitness_score_test"], **TIGHT)
    # The default protocol's estimators give other numbers on the same arrays (R^2 for the
    # ordinal factors, standardised codes, balanced accuracy).
    default = protocols.aejax_v1().options("sap", TOY.categorical)
    assert sap_from_codes(*_fixed(), seed=0, **default)["sap"] != pytest.approx(sap["sap"])


def test_dci_equals_the_reference_on_fixed_arrays():
    # The reference ran with numpy's global state seeded with the study's seed (0).
    got = dci_from_codes(*_fixed(), seed=REFERENCE["seed"], **_options("dci"))
    assert got == pytest.approx(REFERENCE["fixed_arrays"]["values"]["dci"], **TIGHT)


def test_beta_vae_equals_the_reference_on_its_draws():
    ref = REFERENCE["sampled_small"]["beta_vae_sklearn"]
    s = ref["settings"]
    a, b, fixed = beta_vae_draws(REFERENCE["seed"], s["num_train"], s["num_eval"], s["batch_size"])
    got = beta_vae_from_codes(
        _codes_of(a), _codes_of(b), fixed, num_train=s["num_train"], **_options("beta_vae")
    )
    assert got == pytest.approx(ref["values"], **TIGHT)


def test_factor_vae_equals_the_reference_on_its_draws():
    ref = REFERENCE["sampled_small"]["factor_vae_metric"]
    s = ref["settings"]
    global_factors, batches, fixed = factor_vae_draws(
        REFERENCE["seed"],
        s["num_variance_estimate"],
        s["num_train"],
        s["num_eval"],
        s["batch_size"],
    )
    global_codes = represent(global_factors)
    args = (global_codes, _codes_of(batches), fixed, len(SIZES))
    got = factor_vae_from_codes(*args, num_train=s["num_train"], **_options("factor_vae"))
    assert got["train_accuracy"] == pytest.approx(ref["values"]["train_accuracy"], **TIGHT)
    assert got["eval_accuracy"] == pytest.approx(ref["values"]["eval_accuracy"], **TIGHT)
    # Codes kept: those with a standard deviation of at least 0.05 (all but the small one);
    # the reference reports the length of its mask, i.e. every code.
    assert got["num_active_dims"] == np.sum(global_codes.std(axis=0, ddof=1) >= 0.05) == 5
    assert ref["values"]["num_active_dims"] == global_codes.shape[1]
    # Without the study's threshold the small code stays and votes.
    kept = factor_vae_from_codes(*args, num_train=s["num_train"], prune_std=0.0)
    assert kept["num_active_dims"] == global_codes.shape[1]


def _within_four_standard_errors(got: float, n_got: int, want: float, n_want: int) -> None:
    p = (got + want) / 2
    se = np.sqrt(p * (1 - p) * (1 / n_got + 1 / n_want))
    assert abs(got - want) <= 4 * se + 1e-12, (got, want, se)


def test_own_draws_agree_with_the_reference_in_distribution():
    """``compute_all_on`` with the study's estimators draws other combinations than the
    reference, so its BetaVAE and FactorVAE accuracies differ from the reference's study-size
    values by sampling error only: checked within four standard errors of the two binomial
    proportions (held-out points and votes)."""
    small = dataclasses.replace(
        STUDY,
        name="dlib_study_v1 (smaller samples)",
        num_train=300,
        num_test=200,
        beta_vae_num_train=2000,
        beta_vae_num_eval=1000,
        factor_vae_num_train=2000,
        factor_vae_num_eval=1000,
    )
    got = compute_all_on(TOY, represent, seed=0, protocol=small)
    ref = REFERENCE["sampled_study_sizes"]
    beta, factor = ref["beta_vae_sklearn"], ref["factor_vae_metric"]
    _within_four_standard_errors(
        got["beta_vae"]["eval_accuracy"],
        small.beta_vae_num_eval,
        beta["values"]["eval_accuracy"],
        beta["settings"]["num_eval"],
    )
    _within_four_standard_errors(
        got["factor_vae"]["eval_accuracy"],
        small.factor_vae_num_eval,
        factor["values"]["eval_accuracy"],
        factor["settings"]["num_eval"],
    )
    assert got["factor_vae"]["num_active_dims"] == 5  # the small code is pruned
    for values in got.values():
        assert all(np.isfinite(v) for v in values.values())


def test_protocols_by_name():
    assert PROTOCOLS == ("aejax_v1", "dlib_study_v1")
    default = get_protocol("aejax_v1", num_train=400, num_test=200)
    assert (default.num_train, default.beta_vae_num_train, default.factor_vae_num_eval) == (
        400,
        40,
        20,
    )
    assert not default.fixed_sizes and default.dci_model == "random_forest"
    # The study's sizes are the study's: sizes asked for do not change them.
    assert get_protocol("dlib_study_v1", num_train=400, num_test=200) is STUDY
    assert json.loads(json.dumps(STUDY.record()))["name"] == "dlib_study_v1"
    with pytest.raises(ConfigError, match="aejax_v1, dlib_study_v1"):
        get_protocol("dlib")
    with pytest.raises(ConfigError, match="at least 20"):
        get_protocol("aejax_v1", num_train=10, num_test=10)


def _moments(images: np.ndarray) -> np.ndarray:
    """Hand-made codes of sprites ``[N, H, W, 1]``: mass and centre of mass (x, y)."""
    x = np.asarray(images, np.float64)[..., 0]
    mass = x.sum(axis=(1, 2)) + 1e-9
    grid = np.arange(x.shape[1], dtype=np.float64)
    return np.stack([mass, (x.sum(1) * grid).sum(1) / mass, (x.sum(2) * grid).sum(1) / mass], 1)


# scikit-learn's default 100 iterations on raw features, as the study ran it
@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_the_suite_runs_either_protocol_and_names_it(monkeypatch, tmp_path):
    from aejax.data import shapes

    # The model is beside the point here: hand-made codes of the rendered sprites stand in.
    from aejax.evaluation.parts import disentanglement as part

    monkeypatch.setattr(part, "representation_fn", lambda model, variables, batch: _moments)
    # The study's estimators on small samples, except DCI's: gradient boosting fits one tree
    # per class and stage, 11,300 trees for shapes' 113 factor values (45 s even on 100
    # samples); the tests above check it against the reference.
    small = dataclasses.replace(
        STUDY,
        num_train=100,
        num_test=60,
        beta_vae_num_train=30,
        beta_vae_num_eval=20,
        factor_vae_num_train=30,
        factor_vae_num_eval=20,
        factor_vae_num_variance_estimate=200,
        dci_model="random_forest",
    )
    monkeypatch.setattr(protocols, "DLIB_STUDY", small)
    info = DatasetInfo(
        name="shapes",
        shape=(16, 16, 1),
        factor_names=shapes.FACTOR_NAMES,
        factor_sizes=shapes.FACTOR_SIZES,
    )
    ds = ArrayDataset(np.zeros((2, 16, 16, 1), np.float32), None, None, info)
    run = types.SimpleNamespace(experiment=types.SimpleNamespace(model=None, seed=0), variables=0)
    results = {}
    for name in PROTOCOLS:
        settings = suite.Settings(
            iwae_k=0,
            batch_size=2,
            max_samples_per_call=10,
            disentanglement_num_train=300,
            disentanglement_num_test=200,
            disentanglement_protocol=name,
            progress=False,
        )
        ctx = suite.Context(run=run, workdir=tmp_path, settings=settings, load_split=lambda s: ds)
        results[name], _ = suite.run_suite(ctx, ("disentanglement",), {})
    for name, result in results.items():
        part = result["disentanglement"]
        assert part["protocol"] == part["protocol_settings"]["name"] == name
        assert result["profile"]["settings"]["disentanglement_protocol"] == name
        labels = [row[0] for row in headline.single_rows(result, {})]
        assert f"MIG ({name})" in labels and f"SAP ({name})" in labels
    default, study = (
        results["aejax_v1"]["disentanglement"],
        results["dlib_study_v1"]["disentanglement"],
    )
    assert (default["num_train"], default["num_test"]) == (300, 200)  # the settings' sizes
    assert "notes" not in default
    assert (study["num_train"], study["num_test"]) == (100, 60)  # the protocol's own
    assert "fixes its sample sizes" in study["notes"][0]
    assert study["protocol_settings"]["sap_all_categorical"] is True
    assert default["metrics"] != study["metrics"]
    # A comparison of runs evaluated under different protocols shows both names in the row.
    rows = headline.compare_rows([results["aejax_v1"], results["dlib_study_v1"]], [{}, {}])
    assert "MIG (aejax_v1) / MIG (dlib_study_v1)" in [row[0] for row in rows]


def test_evaluate_refuses_an_unknown_protocol_in_one_line(tmp_path):
    from conftest import PYTHON, REPO, script_env

    proc = subprocess.run(
        [
            PYTHON,
            "scripts/evaluate.py",
            f"--workdir={tmp_path}",
            "--disentanglement_protocol=locatello",
        ],
        cwd=REPO,
        env=script_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert all(name in proc.stderr for name in PROTOCOLS)
