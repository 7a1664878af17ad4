"""Config -> pieces: the only package that reads a ConfigDict.

It validates a config and builds typed pieces from it by looking up what the lower layers
declare next to their code: objectives and extra terms (:mod:`aejax.objectives.spec`), priors and
heads (:mod:`aejax.models.spec`), networks (:data:`aejax.nn.NETWORKS`). Every invalid value
raises :class:`~aejax.errors.ConfigError` naming the key, the value and the valid choices; the
rest of the library receives plain objects (modules, functions, dataclasses).

- :mod:`~aejax.build.data`: a split as the config says (:func:`load_data`);
- :mod:`~aejax.build.model`, :mod:`~aejax.build.networks`: the autoencoder;
- :mod:`~aejax.build.objective`: the objective, its hparams and extra streams;
- :mod:`~aejax.build.optimizer`: the update direction of each player;
- :mod:`~aejax.build.experiment`: all of it as one :class:`Experiment`;
- :mod:`~aejax.build.graph`: the same for the experiment kind ``"graph"`` (GAE/VGAE);
- :mod:`~aejax.build.settle`: a run's config with old keys moved and unused groups dropped;
- :mod:`~aejax.build.evals`: which evaluations the train loop runs (``config.evals``);
- :mod:`~aejax.build.grid`: a sweep's member configs (``--sweep KEY=V1,V2 --seeds N``);
- :mod:`~aejax.build.checks`: reading and checking values.
"""

from aejax.build.data import data_signature, load_data
from aejax.build.evals import EvalsSettings, build_evals
from aejax.build.experiment import (
    MATMUL_PRECISIONS,
    ON_NONFINITE,
    DataFacts,
    EvalDefaults,
    Experiment,
    TrainSettings,
    build_eval_defaults,
    build_experiment,
    hparam_config_keys,
    hparams_as_arrays,
    matmul_precision,
    resolve_train,
)
from aejax.build.graph import (
    GraphExperiment,
    build_graph_experiment,
    experiment_kind,
    load_graph,
)
from aejax.build.model import build_model
from aejax.build.objective import (
    CORRUPTIBLE,
    EXTRA_TERMS,
    NEEDS_DENSITY,
    OBJECTIVES,
    build_objective,
    build_streams,
)
from aejax.build.optimizer import (
    OPTIMIZERS,
    SCHEDULES,
    build_direction,
    build_player_direction,
    build_schedule,
)
from aejax.build.settle import settle_config, unused_groups
from aejax.models.heads import LIKELIHOODS, POSTERIORS
from aejax.models.priors import PRIORS
from aejax.moved import getattr_for

__all__ = [
    "data_signature",
    "DataFacts",
    "EvalDefaults",
    "build_eval_defaults",
    "EvalsSettings",
    "build_evals",
    "CORRUPTIBLE",
    "EXTRA_TERMS",
    "LIKELIHOODS",
    "MATMUL_PRECISIONS",
    "NEEDS_DENSITY",
    "OBJECTIVES",
    "ON_NONFINITE",
    "OPTIMIZERS",
    "POSTERIORS",
    "PRIORS",
    "SCHEDULES",
    "Experiment",
    "GraphExperiment",
    "TrainSettings",
    "build_direction",
    "build_experiment",
    "build_graph_experiment",
    "build_model",
    "build_objective",
    "build_player_direction",
    "build_schedule",
    "build_streams",
    "experiment_kind",
    "hparam_config_keys",
    "hparams_as_arrays",
    "load_data",
    "load_graph",
    "matmul_precision",
    "resolve_train",
    "settle_config",
    "unused_groups",
]

__getattr__ = getattr_for(__name__)  # names that moved elsewhere say where (aejax/moved.py)
