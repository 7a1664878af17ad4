"""Equal-width histogram discretisation of continuous codes (disentanglement_lib's default).

Each code dimension is cut into ``num_bins`` bins of equal width spanning its observed range
(``numpy.histogram_bin_edges``); a value gets the index of its bin. MIG and modularity estimate
mutual information from these bin indices.
"""

from __future__ import annotations

import numpy as np

NUM_BINS = 20  # Locatello et al. (2019) use 20 bins for MIG and modularity


def histogram_discretize(codes: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Bins each column of ``codes [N, D]`` into ``num_bins`` equal-width bins.

    Returns:
      ``int64[N, D]`` bin indices in ``[1, num_bins]`` (a constant column is all one bin).
    """
    codes = np.asarray(codes, np.float64)
    out = np.empty(codes.shape, np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, d], bins=int(num_bins))
        # Digitising against the left edges puts the maximum into the last bin, not bin + 1.
        out[:, d] = np.digitize(codes[:, d], edges[:-1])
    return out
