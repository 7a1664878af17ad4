"""One run assembly: config -> data on device, model, state, step, chunk runner, shardings.

:func:`make_run` is the only place that wires a run together; the train loop
(:mod:`aejax.train.loop`), the vmapped sweep (:mod:`aejax.sweep.vmapped`), the graph trainer
(:mod:`aejax.graph.train`), the table scripts and the benchmark all drive the :class:`Run` it
returns. It assembles each experiment kind (:func:`aejax.build.experiment_kind`):

* ``"images"``: minibatches of a split held on device, many steps per dispatch (the chunk
  runner), optionally data-parallel over a mesh. A run of ``members`` trains several configs
  that differ only in hparams and seeds as one ``vmap``ped program (PureJaxRL's
  ``jax.vmap(make_train(config))``): state, keys and hparams carry a leading member axis
  ``[M]``, the data is shared.
* ``"graph"``: full-batch steps on a graph; the run has ``replicas`` (``graph.num_runs`` seeds
  ``seed + r``, each its own edge split and initialisation) that share one jitted step:
  :meth:`Run.replica` gives replica ``r``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.experimental import sparse

from aejax import build
from aejax.data.base import ArrayDataset
from aejax.data.edge_split import EdgeSplit, split_edges, training_inputs
from aejax.train import sharding
from aejax.train.epochs import DeviceData, make_chunk_runner
from aejax.train.rng import named_keys, subkey
from aejax.train.state import TrainState
from aejax.train.step import StepFn, make_train_step
from aejax.types import PRNGKey, PyTree

AUTO = "auto"  # make_run(mesh=AUTO): the config's data-parallel mesh (sharding.mesh_for)


@dataclasses.dataclass(frozen=True)
class Run:
    """Everything a driver needs to train one run (or one vmapped group of members).

    Attributes:
      config: the run's config (member 0's for a group).
      experiment: the built pieces (member 0's for a group); ``experiments`` holds every member's.
      experiments: one per member (a single run: one).
      train_ds: the training data on the host: an
        :class:`~aejax.data.base.ArrayDataset`, or for a graph run the
        :class:`~aejax.data.planetoid.Graph`.
      data: the training data on device: :class:`~aejax.train.epochs.DeviceData` (split over
        ``mesh`` when there is one), or for a graph run :class:`GraphData`.
      keys: ``{purpose: key}`` (:func:`aejax.train.rng.named_keys`); for a group each is ``[M]``.
      state: the fresh train state (``[M]``-stacked for a group, placed on ``mesh``).
      hparams: ``{name: float32[]}`` (``[M]`` for a group).
      step_fn: one member's pure train step, neither sharded nor vmapped.
      runner: the jitted chunk runner; call it as ``runner(*run.runner_args(state, n, orders))``.
      chunk_len: the most steps one runner call takes.
      mesh: the data-parallel mesh, or ``None`` on one device.
      state_shardings: the state's shardings on ``mesh`` (``None`` without one).
      members: the number of vmapped members, or ``None`` for a single run.
      replicas: independent replicas of the run (graph kind: ``graph.num_runs``), else 1.
      args: ``args(run, state, num_steps, orders) -> tuple``: the runner's arguments.
      replica_fn: ``replica_fn(r) -> Run`` for replica ``r`` (``None``: the run is replica 0).
    """

    config: ml_collections.ConfigDict
    experiment: build.Experiment
    experiments: tuple[build.Experiment, ...]
    train_ds: ArrayDataset
    data: DeviceData
    keys: dict[str, PRNGKey]
    state: TrainState
    hparams: dict[str, jax.Array]
    step_fn: StepFn
    runner: Callable
    chunk_len: int
    mesh: jax.sharding.Mesh | None = None
    state_shardings: PyTree | None = None
    members: int | None = None
    replicas: int = 1
    args: Callable | None = None
    replica_fn: Callable[[int], Run] | None = None

    def runner_args(self, state: TrainState, num_steps: int, orders=None) -> tuple:
        """The runner's arguments for ``num_steps`` steps from ``state`` (a graph run's runner
        takes one step); ``orders`` (a single run only) are the epoch orders of
        :class:`aejax.train.epochs.EpochOrders`."""
        return (self.args or _single_args)(self, state, num_steps, orders)

    def replica(self, r: int) -> Run:
        """Replica ``r`` of the run (its own data, keys and state; the same step and runner)."""
        if not 0 <= r < self.replicas:
            raise IndexError(f"replica {r} of a run with {self.replicas}")
        return self if self.replica_fn is None else self.replica_fn(r)

    def chunk(self, state: TrainState, num_steps: int, orders=None):
        """``(state, metrics)`` after ``num_steps <= chunk_len`` steps in one dispatch."""
        return self.runner(*self.runner_args(state, num_steps, orders))


def make_run(
    config: ml_collections.ConfigDict,
    *,
    members: Sequence[ml_collections.ConfigDict] | None = None,
    mesh: jax.sharding.Mesh | str | None = AUTO,
    train_ds: ArrayDataset | None = None,
) -> Run:
    """Builds the run ``config`` describes, ready to train from step 0.

    Args:
      config: the run's config.
      members: configs equal to ``config`` except in hparams and seeds, trained as one vmapped
        program (``mesh`` is then ignored: members run on one device).
      mesh: :data:`AUTO` (the config's data-parallel mesh: every device when there are several
        and ``train.data_parallel``), a mesh, or ``None`` (one device).
      train_ds: the training split, when the caller has already loaded it.

    Raises:
      ConfigError: an invalid config, naming the key.
    """
    if build.experiment_kind(config) == "graph":
        return _make_graph_run(config)
    if train_ds is None:
        train_ds = build.load_data(config, "train")
    shape, n = train_ds.info.shape, len(train_ds)
    if members is not None:
        return _make_group(config, members, train_ds)
    exp = build.build_experiment(config, shape, n)
    settings = exp.train
    keys = named_keys(exp.seed)
    state = init_state(exp, shape, keys["init"])
    if mesh == AUTO:
        mesh = sharding.mesh_for(settings)
    shardings = None
    if mesh is not None:  # a restore target carries the shardings: N devices restore on M
        sharding.check_batch(settings.batch_size, mesh)
        shardings = sharding.state_shardings(state, mesh, shard_params=settings.shard_params)
        state = sharding.place(state, shardings)
    # on_nonfinite=stop discards the state of a non-finite step (it stops before any save), so
    # only skip needs the step to keep its state.
    step_fn = make_train_step(
        exp.model,
        exp.objective,
        exp.tx,
        players=exp.players,
        keep_state_on_nonfinite=settings.on_nonfinite == "skip",
    )
    runner, chunk_len = make_chunk_runner(
        step_fn if mesh is None else sharding.shard_batch(step_fn, mesh),
        num_examples=n,
        batch_size=settings.batch_size,
        steps_per_call=settings.steps_per_call,
        binarize=exp.binarize,
        data_key=keys["data"],
        binarize_key=keys["binarize"],
        stop_on_nonfinite=settings.on_nonfinite == "stop",
        streams=exp.streams,
        record_indices=settings.log_example_ids,
        unroll=settings.scan_unroll,
    )
    return Run(
        config=config,
        experiment=exp,
        experiments=(exp,),
        train_ds=train_ds,
        data=device_data(train_ds, stream_pools(exp, train_ds), mesh),
        keys=keys,
        state=state,
        hparams=build.hparams_as_arrays(exp.hparams),
        step_fn=step_fn,
        runner=runner,
        chunk_len=chunk_len,
        mesh=mesh,
        state_shardings=shardings,
    )


def _make_group(config, members, train_ds: ArrayDataset) -> Run:
    """The vmapped run of ``members`` (see :func:`make_run`)."""
    shape, n = train_ds.info.shape, len(train_ds)
    exps = tuple(build.build_experiment(m, shape, n) for m in members)
    exp = exps[0]
    settings = exp.train
    keys = stack([named_keys(e.seed) for e in exps])
    states = jax.vmap(lambda k: init_state(exp, shape, k))(keys["init"])
    step_fn = make_train_step(exp.model, exp.objective, exp.tx, players=exp.players)
    options = dict(
        num_examples=n,
        batch_size=settings.batch_size,
        steps_per_call=settings.steps_per_call,
        binarize=exp.binarize,
        # Never halt inside the chunk: a per-member halt flag makes the chunk loop's predicate
        # batched, and vmap turns that into a select over the whole state each step (its cost:
        # docs/performance.md). The step itself already leaves a member's state unchanged on a
        # non-finite step; the driver counts those steps.
        stop_on_nonfinite=False,
        streams=exp.streams,
        unroll=settings.scan_unroll,
    )

    def member(state, data, train_key, data_key, binarize_key, hparams, num_steps):
        # The data keys are per member (data order depends on the seed), so the runner is built
        # inside the trace with them; its inner jit is inlined into the vmapped program.
        run, _ = make_chunk_runner(step_fn, data_key=data_key, binarize_key=binarize_key, **options)
        return run(state, data, train_key, hparams, num_steps)

    mapped = jax.vmap(member, in_axes=(0, None, 0, 0, 0, 0, None))

    def runner(states: TrainState, data: DeviceData, keys: dict, hparams: dict, num_steps):
        return mapped(
            states, data, keys["train"], keys["data"], keys["binarize"], hparams, num_steps
        )

    # One pool for the group: member 0's (members differ only in hparams and seeds).
    return Run(
        config=config,
        experiment=exp,
        experiments=exps,
        train_ds=train_ds,
        data=device_data(train_ds, stream_pools(exp, train_ds)),
        keys=keys,
        state=states,
        hparams=stack([build.hparams_as_arrays(e.hparams) for e in exps]),
        step_fn=step_fn,
        runner=jax.jit(runner, donate_argnums=(0,)),
        chunk_len=max(1, min(settings.steps_per_call, settings.steps_per_epoch)),
        members=len(exps),
        args=_group_args,
    )


def _single_args(run: Run, state, num_steps: int, orders) -> tuple:
    return (state, run.data, run.keys["train"], run.hparams, jnp.int32(num_steps), orders)


def _group_args(run: Run, state, num_steps: int, orders) -> tuple:
    del orders
    return (state, run.data, run.keys, run.hparams, jnp.int32(num_steps))


class GraphData(NamedTuple):
    """A graph replica's data: the training graph's inputs on device and the edge split."""

    inputs: dict  # training_inputs: "graph", "features" (BCOO) or none, targets and weights
    split: EdgeSplit  # host arrays: train / val / test edges and non-edges


def _graph_args(run: Run, state, num_steps: int, orders) -> tuple:
    del orders
    if num_steps != 1:
        raise ValueError("a graph run's runner takes one full-batch step per call")
    return (state, run.data.inputs, run.keys["train"], run.hparams)


def _make_graph_run(config: ml_collections.ConfigDict) -> Run:
    """The ``"graph"`` kind: replicas ``r`` with seeds ``seed + r`` (Kipf & Welling's 10-run
    protocol), all of one shape, so the one jitted step compiles once for all of them."""
    graph = build.load_graph(config)
    exp = build.build_graph_experiment(config, graph)
    step_fn = make_train_step(exp.model, exp.objective, exp.tx)
    runner = jax.jit(step_fn)
    init_fn = jax.jit(exp.model.init)
    hparams = build.hparams_as_arrays(exp.hparams)

    def replica(r: int) -> Run:
        keys = named_keys(exp.seed + r)
        split = split_edges(
            graph.edges,
            graph.num_nodes,
            subkey(keys["data"], "edge_split"),
            val_fraction=exp.val_fraction,
            test_fraction=exp.test_fraction,
        )
        inputs = graph_inputs(split, graph)
        params = init_fn(keys["init"], inputs.get("features"), inputs["graph"])["params"]
        state = TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            model_state={},
            opt_state=exp.tx.init(params),
        )
        return Run(
            config=config,
            experiment=exp,
            experiments=(exp,),
            train_ds=graph,
            data=GraphData(inputs=inputs, split=split),
            keys=keys,
            state=state,
            hparams=hparams,
            step_fn=step_fn,
            runner=runner,
            chunk_len=1,
            replicas=exp.num_runs,
            args=_graph_args,
            replica_fn=replica,
        )

    return replica(0)


# Features with at most this fraction of non-zeros are held as a sparse BCOO matrix (Planetoid's
# bag-of-words: about 1%); denser ones (generated graphs' real-valued features) stay dense,
# where a sparse product would only add index traffic.
SPARSE_FEATURES_MAX_DENSITY = 0.1


def graph_inputs(split: EdgeSplit, graph) -> dict:
    """:func:`aejax.data.edge_split.training_inputs` on the device, sparse features as a
    ``BCOO`` matrix (:data:`SPARSE_FEATURES_MAX_DENSITY`)."""
    batch = training_inputs(split, graph.num_nodes, graph.features)
    features = batch.pop("features", None)
    batch = jax.tree_util.tree_map(jnp.asarray, batch)
    if features is not None and np.count_nonzero(features) > (
        SPARSE_FEATURES_MAX_DENSITY * features.size
    ):
        batch["features"] = jnp.asarray(features)
    elif features is not None:
        rows, cols = np.nonzero(features)  # built on the host: no per-shape compilation
        indices = jnp.asarray(np.stack([rows, cols], 1).astype(np.int32))
        batch["features"] = sparse.BCOO(
            (jnp.asarray(features[rows, cols]), indices), shape=features.shape
        )
    return batch


def init_state(exp: build.Experiment, image_shape, init_key) -> TrainState:
    """Fresh parameters from ``init_key`` and a zeroed optimizer state.

    Jitted as one program: run eagerly, every initialiser op compiles on its own (dozens of small
    compilations); the values are bitwise the same either way.
    """

    def make(key) -> TrainState:
        dummy = jnp.zeros((1, *image_shape), jnp.float32)
        variables = dict(exp.model.init(key, dummy))
        params = variables.pop("params")
        model_state = variables  # e.g. batch_stats; {} for the current networks
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            model_state=model_state,
            opt_state=exp.tx.init(params),
        )

    return jax.jit(make)(init_key)


def device_data(
    ds: ArrayDataset,
    pools: Mapping[str, np.ndarray] | None = None,
    mesh: jax.sharding.Mesh | None = None,
) -> DeviceData:
    """``ds``'s batch fields (and the extra streams' pools of example ids ``{name: [P]}``) on the
    default device, or with ``mesh`` split along the example axis over it
    (:func:`aejax.train.sharding.shard_examples`)."""
    fields, pools = ds.batch_fields(), dict(pools or {})
    if mesh is not None:
        host = DeviceData(
            fields=fields, pools={k: np.asarray(v, np.int32) for k, v in pools.items()}
        )
        return sharding.shard_examples(host, mesh)
    return DeviceData(
        fields={k: jnp.asarray(v) for k, v in fields.items()},
        pools={k: jnp.asarray(v, jnp.int32) for k, v in pools.items()},
    )


def stream_pools(exp: build.Experiment, ds: ArrayDataset) -> dict[str, np.ndarray]:
    """``{stream name: int32[P]}``: the pool of each of the experiment's extra streams, chosen
    from ``subkey(data key, "{name}_pool")``."""
    data_key = named_keys(exp.seed)["data"]
    return {
        s.name: np.asarray(s.select(ds, subkey(data_key, f"{s.name}_pool")), np.int32)
        for s in exp.streams
    }


def stack(trees: Sequence):
    """Stacks equally shaped pytrees along a new leading axis."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def unstack(tree, i: int):
    """Member ``i`` of a stacked pytree."""
    return jax.tree_util.tree_map(lambda x: x[i], tree)
