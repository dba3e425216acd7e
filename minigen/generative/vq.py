"""Vector quantization: the VQ-VAE's codebook, its straight-through gradient and losses.

An encoder output z_e (N, D, H, W) is a grid of H·W vectors of size D. Each is replaced
by the nearest of K codebook vectors e_1 ... e_K (the codebook, *libro de códigos*,
(K, D)):

    k(i) = argmin_k ||z_e,i - e_k||²,     z_q,i = e_k(i).

argmin has no gradient, so the decoder's gradient is copied straight through to the
encoder (the straight-through estimator, *estimador de paso directo*):

    z_q = z_e + sg[e_k - z_e]     (value e_k, gradient ∂L/∂z_e = ∂L/∂z_q)

and two extra losses train the codebook and keep the encoder near it (β = 0.25):

    L = L_rec + ||sg[z_e] - e_k||² + β ||z_e - sg[e_k]||²
              (codebook loss)       (commitment loss, *pérdida de compromiso*)

Both losses must see the selected codebook rows e_k = ``lookup(codebook, indices)``,
which carry a gradient to the codebook; the straight-through z_q does not (a common bug
leaves the codebook untrained).
"""
from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.function import Context, Function
from minigen.grad_mode import no_grad
from minigen.ops import getitem, mean, permute
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def _check(name: str, z_e: Tensor, codebook: Tensor) -> None:
    if z_e.ndim != 4:
        raise ValueError(f"{name}: z_e must be (N, D, H, W), got shape {z_e.shape}")
    if codebook.ndim != 2 or codebook.shape[1] != z_e.shape[1]:
        raise ValueError(f"{name}: codebook must be (K, D) with D = {z_e.shape[1]} (the channels "
                         f"of z_e {z_e.shape}), got shape {codebook.shape}")


def nearest_code(z_e: Any, codebook: Any) -> tuple[Tensor, Tensor]:
    """The index of the nearest codebook vector for every position, and all the distances.

    ||z - e||² = ||z||² - 2 z·e + ||e||², for all M = N·H·W vectors against all K codes in
    one matrix product (M, D) @ (D, K). Ties go to the lowest index (``argmin``).

    Returns indices (N, H, W) (int64) and squared distances (N, H, W, K); no gradient.

    >>> import minigen
    >>> book = minigen.tensor([[0.0, 0.0], [1.0, 1.0]])
    >>> idx, dist = nearest_code(minigen.tensor([[[[0.9]], [[0.8]]]]), book)   # z = (0.9, 0.8)
    >>> idx.tolist(), [round(float(d), 2) for d in dist.numpy().ravel()]
    ([[[1]]], [1.45, 0.05])
    """
    z_e, codebook = as_tensor(z_e), as_tensor(codebook)
    _check("nearest_code", z_e, codebook)
    n, d, h, w = z_e.shape
    z = z_e.data.transpose(0, 2, 3, 1).reshape(-1, d)          # (M, D): one row per position
    e = codebook.data                                         # (K, D)
    distances = ((z * z).sum(axis=1, keepdims=True)           # ||z||²  (M, 1)
                 - 2 * z @ e.T                                # -2 z·e  (M, K)
                 + (e * e).sum(axis=1))                       # ||e||²  (K,)
    indices = distances.argmin(axis=1)                        # (M,), first on ties
    return Tensor(indices.reshape(n, h, w)), Tensor(distances.reshape(n, h, w, -1))


def lookup(codebook: Any, indices: Any) -> Tensor:
    """e_k: the codebook rows picked by ``indices`` (N, H, W), arranged as (N, D, H, W).

    Differentiable with respect to the codebook: the gradient of row k adds up over every
    position that picked k (and is exactly zero for codes nobody picked).
    """
    codebook = as_tensor(codebook)
    rows = getitem(codebook, indices)                         # (N, H, W, D)
    return permute(rows, (0, 3, 1, 2))                      # (N, D, H, W)


class StraightThrough(Function):
    """z_q = z_e + sg[e_k - z_e]: the value of e_k, the gradient of the identity in z_e.

    Forward: returns e_k.  Backward: ∂L/∂z_e = ∂L/∂z_q (copied unchanged) and nothing for
    e_k. The forward does not depend on z_e at all, so finite differences cannot check
    this backward: it is a *definition* of the gradient, and the tests check it exactly.
    """

    @staticmethod
    def forward(ctx: Context, z_e: Any, e_k: Any) -> Any:
        return e_k.copy()

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        # BEGIN SOLUTION straight_through
        return grad, None
        # END SOLUTION


def straight_through(z_e: Any, e_k: Any) -> Tensor:
    """The straight-through estimator: value e_k, gradient copied to z_e (see ``StraightThrough``)."""
    z_e, e_k = as_tensor(z_e), as_tensor(e_k)
    if z_e.shape != e_k.shape:
        raise ValueError(f"straight_through: z_e shape {z_e.shape} and e_k shape {e_k.shape} differ")
    return StraightThrough.apply(z_e, e_k)


def quantize(z_e: Any, codebook: Any) -> tuple[Tensor, Tensor]:
    """Replace each vector of z_e (N, D, H, W) by its nearest code.

    Returns z_q (N, D, H, W) — the codes' values with the straight-through gradient to
    z_e and none to the codebook — and the indices (N, H, W). For the losses use
    ``lookup(codebook, indices)``, which does carry the codebook's gradient.
    """
    indices, _ = nearest_code(z_e, codebook)
    with no_grad():
        e_k = lookup(codebook, indices)
    return straight_through(z_e, e_k), indices


def codebook_loss(z_e: Any, e_k: Any) -> Tensor:
    """mean ||sg[z_e] - e_k||²: moves only the codebook towards the encoder outputs.

    ``e_k`` must be ``lookup(codebook, indices)``. The mean is over all M elements, so
    ∂/∂e_k = (2/M) Σ over the positions that chose k of (e_k - z_e).
    """
    z_e, e_k = as_tensor(z_e), as_tensor(e_k)
    # BEGIN SOLUTION vq_losses
    diff = z_e.detach() - e_k
    return mean(diff * diff)
    # END SOLUTION


def commitment_loss(z_e: Any, e_k: Any) -> Tensor:
    """mean ||z_e - sg[e_k]||²: moves only the encoder towards its chosen codes,
    ∂/∂z_e = (2/M)(z_e - e_k)."""
    z_e, e_k = as_tensor(z_e), as_tensor(e_k)
    # BEGIN SOLUTION vq_losses
    diff = z_e - e_k.detach()
    return mean(diff * diff)
    # END SOLUTION


def code_counts(indices: Any, num_codes: int) -> Any:
    """n_k: how many positions chose each code k, an int array (K,) (NumPy or CuPy, as
    ``indices``). Codes with n_k > 0 are *used*; the others are dead codes (*códigos muertos*).

    >>> code_counts([[0, 2], [2, 2]], 4).tolist()
    [1, 0, 3, 0]
    """
    data = indices.data if isinstance(indices, Tensor) else indices
    xp = backend.array_module(data) if backend.is_array(data) else backend.np
    return xp.bincount(xp.asarray(data).ravel(), minlength=num_codes)


def perplexity(indices: Any, num_codes: int) -> float:
    """exp(-Σ_k p_k log p_k) with p_k the fraction of positions that chose code k.

    1 when every position uses one code, K when all K codes are used equally: the
    effective number of codes in use (it depends on the batch size; count the codes
    used over a whole epoch too, ``code_counts``).
    """
    return counts_perplexity(code_counts(indices, num_codes))


def counts_perplexity(counts: Any) -> float:
    """The perplexity exp(-Σ_k p_k log p_k) of code counts n_k (K,), p_k = n_k / Σ n."""
    xp = backend.array_module(counts)
    p = counts / counts.sum()
    p = p[p > 0]                                   # 0 · log 0 = 0
    return float(xp.exp(-(p * xp.log(p)).sum()))


def ema_update(cluster_size: Any, code_sum: Any, z_e: Any, indices: Any, decay: float = 0.99,
               epsilon: float = 1e-5) -> tuple[Any, Any, Any]:
    """One step of the EMA codebook (the VQ-VAE paper's appendix A.1), on raw arrays.

    With n_k the positions of the batch that chose code k and s_k = Σ of their z_e:

        N_k ← γ N_k + (1 - γ) n_k          (cluster size, *tamaño del grupo*)   (K,)
        m_k ← γ m_k + (1 - γ) s_k          (running sum of the vectors)        (K, D)
        Ñ_k = (N_k + ε) / (n + K ε) · n,   n = Σ_k N_k    (Laplace smoothing)
        e_k = m_k / Ñ_k                    (the new codebook)                  (K, D)

    e_k is thus a running mean of the encoder outputs that chose k: k-means done online.
    Laplace smoothing keeps Ñ_k > 0 for a code nobody chooses; its N_k and m_k then both
    decay as γ^t, but Ñ_k stops at about ε, so e_k = m_k / Ñ_k shrinks towards the origin
    (along its own direction) and eventually meets the data again.

    Args: cluster_size N (K,), code_sum m (K, D), z_e (N, D, H, W), indices (N, H, W).
    Returns the new (N, m, codebook) as arrays; nothing is changed in place.

    >>> import minigen
    >>> N, m = minigen.tensor([1.0, 1.0]).data, minigen.tensor([[0.0], [4.0]]).data
    >>> z_e = minigen.tensor([[[[2.0, 3.0]]]])                     # two positions, D = 1
    >>> N, m, book = ema_update(N, m, z_e, [[[1, 1]]], decay=0.5, epsilon=0.0)
    >>> N.tolist(), m.tolist(), book.tolist()                      # e_1 = (0.5·4 + 0.5·5) / 1.5
    ([0.5, 1.5], [[0.0], [4.5]], [[0.0], [3.0]])
    """
    z_e = as_tensor(z_e)
    xp = backend.array_module(z_e.data)
    num_codes, dim = code_sum.shape
    z = z_e.data.transpose(0, 2, 3, 1).reshape(-1, dim)            # (M, D)
    chosen = xp.asarray(indices.data if isinstance(indices, Tensor) else indices).ravel()
    counts = code_counts(chosen, num_codes).astype(z.dtype)        # n_k (K,)
    sums = xp.zeros_like(code_sum)                                 # s_k (K, D)
    backend.scatter_add(sums, chosen, z)
    cluster_size = decay * cluster_size + (1 - decay) * counts
    code_sum = decay * code_sum + (1 - decay) * sums
    n = cluster_size.sum()
    smoothed = (cluster_size + epsilon) / (n + num_codes * epsilon) * n
    return cluster_size, code_sum, code_sum / smoothed[:, None]
