"""Graph autoencoders (GAE / VGAE, Kipf & Welling 2016) for link prediction on Planetoid graphs.

- :mod:`aejax.graph.split`: the seeded 85/5/10 edge split and the training-graph inputs;
- :mod:`aejax.graph.model`: GCN encoder + inner-product decoder (Delta or Gaussian posterior);
- :mod:`aejax.graph.objectives`: weighted reconstruction of the adjacency (dense or with
  sampled negatives) plus the KL term, per node;
- :mod:`aejax.graph.build`: config -> objects (the graph counterpart of :mod:`aejax.build`);
- :mod:`aejax.graph.train`, :mod:`aejax.graph.evaluation`: full-batch training of several seeds,
  link-prediction AUC/AP and node clustering.
"""
