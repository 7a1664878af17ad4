"""Named protocols of the disentanglement metrics: the estimators and sample sizes they use.

The six metrics leave choices open (the classifier behind DCI, how SAP scores a code, when a
FactorVAE code counts as active, how many points to sample). A protocol fixes all of them under
one name, and ``eval.json`` records the name and the settings next to the numbers, so that scores
computed under different protocols are never compared by accident.

- ``aejax_v1`` (the default): aejax's own choices, each for a reason given in the metric's
  module (random-forest importances for DCI, R^2 for ordinal factors in SAP, standardised
  inputs, constant FactorVAE codes pruned). Its sample sizes are free: MIG, DCI, SAP and
  modularity use ``num_train`` / ``num_test`` combinations, the BetaVAE and FactorVAE scores a
  tenth of them as points and votes (an evaluation profile chooses them).
- ``dlib_study_v1``: disentanglement_lib's ``unsupervised_study_v1`` metric configs
  (``config/unsupervised_study_v1/metric_configs/*.gin``), the numbers of Locatello et al.
  (ICML 2019), with the estimators the reference code builds: BetaVAE score from 10,000 / 5,000
  points of 64 pairs, ``LogisticRegression()`` on the raw features; FactorVAE score from 10,000
  codes for the variances and 10,000 / 5,000 votes of batches of 64, codes with a standard
  deviation under 0.05 pruned (``prune_dims.threshold = 0.05``); MIG on 10,000 combinations,
  20 equal-width bins; DCI with one ``GradientBoostingClassifier()`` per factor, 10,000 / 5,000;
  SAP with every factor categorical (``continuous_factors = False``): plain accuracy of
  ``LinearSVC(C=0.01, class_weight="balanced")`` on the raw single code, 10,000 / 5,000;
  modularity (20 bins) and explicitness (``LogisticRegression()`` on codes standardised with
  the training mean and deviation), 10,000 / 5,000. Its sample sizes are the study's and fixed.

What ``dlib_study_v1`` cannot reproduce: the study's random draws (aejax samples with its own
seeded streams, so values agree with the reference in distribution, and exactly on the same
inputs: ``tests/test_disentanglement_dlib_protocol.py``), and the scikit-learn of 2018-2019:
``LogisticRegression()`` then meant liblinear one-vs-rest (before scikit-learn 0.22), which
scikit-learn 1.9 no longer offers for more than two classes; the reference run today, like this
protocol, gets lbfgs multinomial (docs/dlib_reference.md measures the difference on toy data).
Where the reference would fail or return NaN (a constant code in explicitness, a factor with one
value in the sample), aejax's handling is kept. FactorVAE's ``num_active_dims`` is the number of
codes kept; the reference reports the number of codes.

References:
  Locatello et al., "Challenging Common Assumptions in the Unsupervised Learning of Disentangled
  Representations", ICML 2019, appendix (metric settings); google-research/disentanglement_lib,
  ``disentanglement_lib/config/unsupervised_study_v1``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from aejax.errors import ConfigError

AEJAX_V1, DLIB_STUDY_V1 = "aejax_v1", "dlib_study_v1"
PROTOCOLS = (AEJAX_V1, DLIB_STUDY_V1)
DEFAULT_PROTOCOL = AEJAX_V1


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Everything the six metrics leave open. Sizes count factor combinations (``num_*``),
    BetaVAE points and FactorVAE votes (each ``batch_size`` pairs or images).

    Attributes:
      name: what ``eval.json`` and the report call it.
      num_train, num_test: the i.i.d. sample of MIG, DCI, SAP and modularity (MIG and
        modularity use the training part).
      beta_vae_num_train, beta_vae_num_eval: BetaVAE points for the classifier and its score.
      factor_vae_num_train, factor_vae_num_eval: FactorVAE votes for the majority vote and its
        score; factor_vae_num_variance_estimate: codes for the per-dimension variances.
      batch_size: pairs per BetaVAE point and images per FactorVAE vote.
      beta_vae_standardize: standardise the BetaVAE features before the logistic regression.
      logistic_max_iter: iterations of the logistic regressions (BetaVAE, explicitness).
      factor_vae_prune_std: FactorVAE keeps codes whose standard deviation is at least this
        (and positive).
      dci_model: ``"random_forest"`` or ``"gradient_boosting"`` (see :mod:`.dci`).
      sap_all_categorical: treat every factor as categorical in SAP (else the ground truth's
        flags decide, with R^2 for ordinal factors).
      sap_standardize, sap_balanced: SAP's ``LinearSVC`` sees the standardised code, and is
        scored by balanced accuracy (else raw code, plain accuracy).
      num_bins: equal-width bins per code for the mutual information (MIG, modularity).
      fixed_sizes: the sizes belong to the protocol; an evaluation profile cannot change them.
    """

    name: str
    num_train: int
    num_test: int
    beta_vae_num_train: int
    beta_vae_num_eval: int
    factor_vae_num_train: int
    factor_vae_num_eval: int
    factor_vae_num_variance_estimate: int
    batch_size: int
    beta_vae_standardize: bool
    logistic_max_iter: int
    factor_vae_prune_std: float
    dci_model: str
    sap_all_categorical: bool
    sap_standardize: bool
    sap_balanced: bool
    num_bins: int
    fixed_sizes: bool

    def record(self) -> dict:
        """The protocol as ``eval.json`` records it."""
        return dataclasses.asdict(self)

    def options(self, metric: str, categorical: Sequence[bool]) -> dict:
        """Keyword arguments that choose ``metric``'s estimator, for a ground truth whose
        factors' categorical flags are ``categorical``: those of ``compute_beta_vae`` and
        ``compute_factor_vae``, and of ``<metric>_from_codes`` for the others (what
        :func:`~aejax.evaluation.disentanglement.compute_all_on` passes). Sizes and seeds are
        not among them."""
        sap_categorical = tuple(categorical)
        if self.sap_all_categorical:
            sap_categorical = (True,) * len(sap_categorical)
        table = {
            "beta_vae": dict(
                standardize=self.beta_vae_standardize, max_iter=self.logistic_max_iter
            ),
            "factor_vae": dict(prune_std=self.factor_vae_prune_std),
            "mig": dict(num_bins=self.num_bins),
            "dci": dict(model=self.dci_model),
            "sap": dict(
                categorical=sap_categorical,
                standardize=self.sap_standardize,
                balanced=self.sap_balanced,
            ),
            "modularity": dict(num_bins=self.num_bins, max_iter=self.logistic_max_iter),
        }
        return table[metric]


def aejax_v1(num_train: int = 10_000, num_test: int = 5_000) -> Protocol:
    """aejax's estimators; BetaVAE/FactorVAE on a tenth of the sizes (variances on half).

    Raises:
      ConfigError: when a size is under 20 (the BetaVAE and FactorVAE scores use a tenth).
    """
    if num_train < 20 or num_test < 20:
        raise ConfigError(
            f"disentanglement: num_train and num_test must be at least 20 (the BetaVAE and "
            f"FactorVAE scores use a tenth of them), got {num_train} and {num_test}"
        )
    return Protocol(
        name=AEJAX_V1,
        num_train=int(num_train),
        num_test=int(num_test),
        beta_vae_num_train=num_train // 10,
        beta_vae_num_eval=num_test // 10,
        factor_vae_num_train=num_train // 10,
        factor_vae_num_eval=num_test // 10,
        factor_vae_num_variance_estimate=num_train // 2,
        batch_size=64,
        beta_vae_standardize=True,
        logistic_max_iter=1000,
        factor_vae_prune_std=0.0,
        dci_model="random_forest",
        sap_all_categorical=False,
        sap_standardize=True,
        sap_balanced=True,
        num_bins=20,
        fixed_sizes=False,
    )


# The values of config/unsupervised_study_v1/metric_configs/*.gin (tests/data/dlib_reference.json
# records them as gin parsed them) and of the reference code's estimators.
DLIB_STUDY = Protocol(
    name=DLIB_STUDY_V1,
    num_train=10_000,
    num_test=5_000,
    beta_vae_num_train=10_000,
    beta_vae_num_eval=5_000,
    factor_vae_num_train=10_000,
    factor_vae_num_eval=5_000,
    factor_vae_num_variance_estimate=10_000,
    batch_size=64,
    beta_vae_standardize=False,
    logistic_max_iter=100,  # LogisticRegression()'s default
    factor_vae_prune_std=0.05,
    dci_model="gradient_boosting",
    sap_all_categorical=True,
    sap_standardize=False,
    sap_balanced=False,
    num_bins=20,
    fixed_sizes=True,
)


def get_protocol(
    name: str, *, num_train: int | None = None, num_test: int | None = None
) -> Protocol:
    """The protocol called ``name``.

    Args:
      name: one of :data:`PROTOCOLS`.
      num_train, num_test: sizes for a protocol whose sizes are free (``aejax_v1``; default
        10,000 and 5,000). A protocol with fixed sizes keeps its own: check ``.num_train``.

    Raises:
      ConfigError: for an unknown name (one line listing the valid ones) or a size under 20.
    """
    if name == AEJAX_V1:
        return aejax_v1(
            10_000 if num_train is None else num_train, 5_000 if num_test is None else num_test
        )
    if name == DLIB_STUDY_V1:
        return DLIB_STUDY
    raise ConfigError(
        f"disentanglement protocol {name!r} is unknown; choose one of {', '.join(PROTOCOLS)}"
    )
