"""Posterior collapse diagnostics beyond KL per dimension and active units: I(x; z).

The mutual information between x and z under the encoder's joint q(x, z) = p_data(x) q(z|x) is
estimated as in He et al., "Lagging Inference Networks and Posterior Collapse in VAEs" (ICLR 2019,
``calc_mi`` of their code), the minibatch form of Hoffman & Johnson's "ELBO surgery" term:

  I(x; z) = E_x E_{q(z|x)} [log q(z|x)] - E_{q(z)} [log q(z)],
  q(z) ~= (1/N) sum_j q(z | x_j),

with one z per x. The aggregate posterior is the mixture over all ``N`` examples given (not a
minibatch), which lowers the bias; the estimate is at most ``log N``.
"""

from __future__ import annotations

import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

_LOG_2PI = math.log(2.0 * math.pi)


@jax.jit
def _log_q_block(z: jax.Array, loc: jax.Array, log_var: jax.Array) -> jax.Array:
    """``log (1/N) sum_j N(z_i; loc_j, exp(log_var_j))`` for a block of ``z [M, D]``: ``[M]``."""
    diff = z[:, None, :] - loc[None]  # [M, N, D]
    log_dens = -0.5 * (_LOG_2PI + log_var[None] + diff**2 * jnp.exp(-log_var)[None]).sum(-1)
    return jax.scipy.special.logsumexp(log_dens, axis=1) - jnp.log(loc.shape[0])


def mutual_information(
    loc: np.ndarray, log_var: np.ndarray, key: jax.Array, *, block: int = 256, progress=False
) -> float:
    """I(x; z) in nats for diagonal Gaussian posteriors ``loc, log_var: [N, D]`` (see module);
    ``progress`` shows a bar over the blocks of ``block`` examples on stderr."""
    loc = jnp.asarray(loc, jnp.float32)
    log_var = jnp.asarray(log_var, jnp.float32)
    n, d = loc.shape
    z = loc + jnp.exp(0.5 * log_var) * jax.random.normal(key, (n, d))
    # E_x E_q(z|x) log q(z|x) = -entropy, in closed form for a Gaussian.
    neg_entropy = float(jnp.mean(-0.5 * (d * (_LOG_2PI + 1.0) + log_var.sum(-1))))
    starts = tqdm(
        range(0, n, block), desc="collapse", unit="block", file=sys.stderr, disable=not progress
    )
    log_qz = [np.asarray(_log_q_block(z[i : i + block], loc, log_var)) for i in starts]
    return neg_entropy - float(np.mean(np.concatenate(log_qz).astype(np.float64)))
