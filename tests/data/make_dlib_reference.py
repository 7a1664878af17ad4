"""Computes ``tests/data/dlib_reference.json`` with disentanglement_lib's own metric functions.

Not part of aejax and not run by the tests: it needs a checkout of disentanglement_lib (its
``disentanglement_lib/`` package directory on ``PYTHONPATH``) and gin-config, and it imports
nothing from aejax. See ``docs/dlib_reference.md`` for the command, the reference commit and
what is stubbed: ``gin.tf``, which imports TensorFlow and which the metric code imports but never
uses, and ``gin.configurable``'s old ``blacklist=`` keyword (gin-config 0.5.0 calls it
``denylist=``).

  PYTHONPATH=/tmp/dlib:/tmp/dlib_deps:tests python tests/data/make_dlib_reference.py \
      --commit <disentanglement_lib commit> > tests/data/dlib_reference.json

Every metric runs with the study's gin file (``config/unsupervised_study_v1/metric_configs``)
parsed, so the estimator settings (bins, pruning threshold, ``continuous_factors``) are the
study's; only the sample sizes are passed explicitly, small enough for the tests to redo.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import sys
import types

import numpy as np

# Two shims, nothing else: gin.tf only imports TensorFlow (the metrics import it, never use it),
# and gin-config 0.5.0 renamed the `blacklist=` keyword the reference passes to `denylist=`.
sys.modules["gin.tf"] = types.ModuleType("gin.tf")

import gin  # noqa: E402

_configurable = gin.configurable


def _configurable_with_blacklist(*args, blacklist=None, whitelist=None, **kwargs):
    return _configurable(*args, denylist=blacklist, allowlist=whitelist, **kwargs)


gin.configurable = _configurable_with_blacklist

import dlib_reference_cases as cases  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from disentanglement_lib.data.ground_truth.ground_truth_data import GroundTruthData  # noqa: E402
from disentanglement_lib.evaluation.metrics import (  # noqa: E402
    beta_vae,
    dci,
    factor_vae,
    mig,
    modularity_explicitness,
    sap_score,
)

STUDY = "disentanglement_lib/config/unsupervised_study_v1/metric_configs"
SEED = 0  # the study's evaluation.random_seed
FIXED = dict(num_train=600, num_test=300)
BETA_SMALL = dict(batch_size=64, num_train=500, num_eval=250)
FACTOR_SMALL = dict(batch_size=64, num_train=500, num_eval=250, num_variance_estimate=1000)
QUERIES = {
    "beta_vae_sklearn": ("beta_vae_sklearn.batch_size", "beta_vae_sklearn.num_train",
                         "beta_vae_sklearn.num_eval"),
    "factor_vae_metric": ("factor_vae_score.batch_size", "factor_vae_score.num_train",
                          "factor_vae_score.num_eval", "factor_vae_score.num_variance_estimate",
                          "prune_dims.threshold"),
    "mig": ("mig.num_train", "discretizer.num_bins", "discretizer.discretizer_fn"),
    "dci": ("dci.num_train", "dci.num_test"),
    "sap_score": ("sap_score.num_train", "sap_score.num_test", "sap_score.continuous_factors"),
    "modularity_explicitness": ("modularity_explicitness.num_train",
                                "modularity_explicitness.num_test", "discretizer.num_bins",
                                "discretizer.discretizer_fn"),
}  # fmt: skip


class ToyData(GroundTruthData):
    """:mod:`dlib_reference_cases`'s ground truth; records every batch of factors it draws."""

    def __init__(self):
        self.draws = []

    @property
    def num_factors(self):
        return len(cases.SIZES)

    @property
    def factors_num_values(self):
        return list(cases.SIZES)

    @property
    def observation_shape(self):
        return [len(cases.SIZES)]

    def sample_factors(self, num, random_state):
        factors = cases.dlib_sample_factors(random_state, num)
        self.draws.append(factors)  # kept by reference: the metrics edit it in place
        return factors

    def sample_observations_from_factors(self, factors, random_state):
        return np.asarray(factors, np.float64)


class ReplayData(ToyData):
    """Hands out the rows of fixed arrays in order, whatever the random state: factors, and the
    codes as observations (the representation is then the identity)."""

    def __init__(self, factors, codes):
        super().__init__()
        self.factors, self.codes, self.cursor, self.last = factors, codes, 0, slice(0, 0)

    def sample_factors(self, num, random_state):
        self.last = slice(self.cursor, self.cursor + num)
        self.cursor += num
        return self.factors[self.last].copy()

    def sample_observations_from_factors(self, factors, random_state):
        assert np.array_equal(factors, self.factors[self.last])
        return self.codes[self.last]


def identity(observations):
    return np.asarray(observations, np.float64)


def use_study_config(name: str, directory: str) -> None:
    """Binds the study's metric config ``name`` (unknown configurables such as ``evaluation``
    and ``dataset`` belong to the pipeline and are skipped)."""
    gin.clear_config()
    gin.parse_config_files_and_bindings([f"{directory}/{STUDY}/{name}.gin"], [], skip_unknown=True)


def query(name: str) -> object:
    value = gin.query_parameter(name)
    return value.selector if hasattr(value, "selector") else value


def floats(scores: dict) -> dict:
    return {k: float(v) for k, v in scores.items()}


def study_settings(directory: str) -> dict:
    out = {}
    for config, names in QUERIES.items():
        use_study_config(config, directory)
        out[config] = {n: query(n) for n in names}
    return out


def fixed_array_values(directory: str) -> dict:
    """MIG, DCI, SAP, modularity/explicitness of :func:`cases.fixed_arrays`, replayed through
    the public ``compute_*`` functions (which draw training then test rows in batches of 16)."""
    arrays = cases.fixed_arrays(SEED, **FIXED)
    codes, factors = np.concatenate([arrays[0], arrays[2]]), np.concatenate([arrays[1], arrays[3]])

    def replay():
        return ReplayData(factors, codes)

    n, m = FIXED["num_train"], FIXED["num_test"]
    rs = np.random.RandomState(SEED)  # unused by the replay, passed for the signature
    out = {}
    use_study_config("mig", directory)
    out["mig"] = floats(mig.compute_mig(replay(), identity, rs, num_train=n))
    use_study_config("dci", directory)
    # GradientBoostingClassifier() draws from numpy's global state (ties between equally good
    # splits are broken by a random feature order), one fit per factor in factor order.
    np.random.seed(SEED)
    out["dci"] = floats(dci.compute_dci(replay(), identity, rs, num_train=n, num_test=m))
    use_study_config("sap_score", directory)
    out["sap_score"] = floats(
        sap_score.compute_sap(replay(), identity, rs, num_train=n, num_test=m)
    )
    use_study_config("modularity_explicitness", directory)
    out["modularity_explicitness"] = floats(
        modularity_explicitness.compute_modularity_explicitness(
            replay(), identity, rs, num_train=n, num_test=m
        )
    )
    return out


def sampled_values(directory: str, beta: dict, factor: dict, check_draws: bool) -> dict:
    """The BetaVAE and FactorVAE scores of the toy ground truth from ``RandomState(SEED)``.

    With ``check_draws``, asserts that :func:`cases.beta_vae_draws` and
    :func:`cases.factor_vae_draws` rebuild exactly the factors the reference drew.
    """
    out = {}
    use_study_config("beta_vae_sklearn", directory)
    data = ToyData()
    scores = beta_vae.compute_beta_vae_sklearn(
        data, cases.represent, np.random.RandomState(SEED), **beta
    )
    out["beta_vae_sklearn"] = {"settings": beta, "values": floats(scores)}
    if check_draws:
        a, b, _ = cases.beta_vae_draws(
            SEED, beta["num_train"], beta["num_eval"], beta["batch_size"]
        )
        assert np.array_equal(np.stack(data.draws[0::2]), a)
        assert np.array_equal(np.stack(data.draws[1::2]), b)
    use_study_config("factor_vae_metric", directory)
    data = ToyData()
    scores = factor_vae.compute_factor_vae(
        data, cases.represent, np.random.RandomState(SEED), **factor
    )
    out["factor_vae_metric"] = {"settings": factor, "values": floats(scores)}
    if check_draws:
        g, batches, _ = cases.factor_vae_draws(
            SEED,
            factor["num_variance_estimate"],
            factor["num_train"],
            factor["num_eval"],
            factor["batch_size"],
        )
        assert np.array_equal(data.draws[0], g)
        assert np.array_equal(np.stack(data.draws[1:]), batches)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="disentanglement_lib commit checked out")
    parser.add_argument("--dlib", default="/tmp/dlib", help="directory holding the checkout")
    args = parser.parse_args()
    settings = study_settings(args.dlib)
    study = settings["beta_vae_sklearn"], settings["factor_vae_metric"]
    beta_study = {k.split(".")[1]: v for k, v in study[0].items()}
    factor_study = {k.split(".")[1]: v for k, v in study[1].items() if k.startswith("factor_")}
    codes_train, factors_train, codes_test, factors_test = cases.fixed_arrays(SEED, **FIXED)
    out = {
        "reference": {
            "repository": "google-research/disentanglement_lib",
            "commit": args.commit,
            "study": "unsupervised_study_v1",
            "stubbed": [
                "gin.tf: an empty module (it only imports TensorFlow; the metrics never use it)",
                "gin.configurable(blacklist=...) passed on as denylist= (gin-config 0.5.0's name)",
            ],
        },
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "gin-config": importlib.metadata.version("gin-config"),
        },
        "study_settings": settings,
        "seed": SEED,
        "fixed_arrays": {
            **FIXED,
            "sha256": {
                "codes_train": cases.sha256(codes_train),
                "factors_train": cases.sha256(factors_train),
                "codes_test": cases.sha256(codes_test),
                "factors_test": cases.sha256(factors_test),
            },
            "values": fixed_array_values(args.dlib),
        },
        "sampled_small": sampled_values(args.dlib, BETA_SMALL, FACTOR_SMALL, check_draws=True),
        "sampled_study_sizes": sampled_values(args.dlib, beta_study, factor_study, False),
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
