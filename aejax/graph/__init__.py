"""Graph autoencoders (GAE / VGAE, Kipf & Welling 2016) for link prediction on Planetoid graphs:
the experiment kind ``"graph"``, its driver and its evaluation.

The pieces live in their layers: the edge split in :mod:`aejax.data.edge_split`, the GCN model in
:mod:`aejax.models.graph`, the objectives in :mod:`aejax.objectives.graph`, config -> objects in
:mod:`aejax.build.graph`, and the run (one jitted step shared by ``graph.num_runs`` replicas) in
:func:`aejax.train.run.make_run`. Here:

- :mod:`aejax.graph.train`: full-batch training of every replica (``train_graph``);
- :mod:`aejax.graph.evaluation`, :mod:`aejax.graph.evaluate`: link-prediction AUC/AP and node
  clustering of a trained workdir.
"""
