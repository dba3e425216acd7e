"""The VQ-VAE for 1x28x28 images: a convolutional autoencoder with a discrete latent.

    x (N, 1, 28, 28) --encoder--> z_e (N, D, 7, 7) --VectorQuantizer--> z_q (N, D, 7, 7)
                                                                        and k (N, 7, 7)
    z_q --decoder--> x̂ (N, 1, 28, 28) in [0, 1]

Each image becomes a 7x7 map of integers k in [0, K): one-hot q(z|x) (*posterior one-hot*),
the vectors z_q being rows of a learned codebook (*libro de códigos*) (K, D). The loss
(``minigen.generative.vq`` has the math and the exact gradients):

    L = mean((x - x̂)²) / var(x)  +  ||sg[z_e] - e_k||²  +  β ||z_e - sg[e_k]||²,   β = 0.25
        (reconstruction)            (codebook)            (commitment)

var(x) is the variance of the training pixels (a constant: the reconstruction loss is then
about 1 for a model that outputs the mean image). With ``ema=True`` the codebook is not
learned by gradient but is a running mean of the encoder outputs that chose each code
(``ema_update``), and the codebook loss is dropped. The loss of a batch is
``minigen.training.vqvae.vqvae_loss``.

A VQ-VAE alone is not a generative model: its prior over the codes is uniform and codes
drawn uniformly decode to noise. ``minigen.models.pixelcnn`` learns that prior.

>>> import minigen
>>> minigen.manual_seed(0)
>>> model = VQVAE()
>>> out = model(minigen.rand(2, 1, 28, 28))
>>> out.x_hat.shape, out.z_e.shape, out.indices.shape
((2, 1, 28, 28), (2, 16, 7, 7), (2, 7, 7))
"""
from __future__ import annotations

from typing import Any, NamedTuple

from minigen import backend, checks, nn
from minigen.generative.vq import (code_counts, codebook_loss, commitment_loss, ema_update,
                                   lookup, quantize)
from minigen.grad_mode import no_grad
from minigen.ops import sigmoid
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor

IMAGE_SHAPE = (1, 28, 28)
LATENT_SIZE = 7           # the code map is 7x7
BETA = 0.25


class Quantized(NamedTuple):
    """What ``VectorQuantizer`` returns.

    z_q: (N, D, H, W) the codes' values, straight-through gradient to z_e.
    indices: (N, H, W) int64, the chosen codes.
    loss: codebook + β·commitment (only β·commitment with ``ema=True``), a scalar.
    codebook: ||sg[z_e] - e_k||², or None with ``ema=True`` (the codebook is not learned
        by gradient).
    commitment: ||z_e - sg[e_k]||².
    """

    z_q: Tensor
    indices: Tensor
    loss: Tensor
    codebook: Tensor | None
    commitment: Tensor


def check_code_map(owner: str, codes: Any, num_codes: int,
                   shape: tuple[int, int] | None = None) -> Any:
    """``codes`` (a Tensor, array or nested list) as an integer array (N, H, W) with values in
    [0, num_codes), of spatial ``shape`` if given; else a clear error naming ``owner``."""
    data = codes.data if isinstance(codes, Tensor) else codes
    data = data if backend.is_array(data) else backend.np.asarray(data)
    if data.ndim != 3 or (shape is not None and tuple(data.shape[1:]) != shape):
        wanted = "(N, H, W)" if shape is None else f"(N, {shape[0]}, {shape[1]})"
        raise ValueError(f"{owner}: expected a code map {wanted}, got shape {tuple(data.shape)}")
    return checks.indices_in_range(owner, "codes", data, num_codes)


class VectorQuantizer(nn.Module):
    """Replace every vector of z_e (N, D, H, W) by the nearest of K codes (K, D).

    Options:
        beta: the commitment cost β.
        ema: learn the codebook by exponential moving averages (decay γ, Laplace smoothing
            ε; the paper's appendix) instead of by the codebook loss. The codebook is then
            a buffer, not a Parameter, updated in ``forward`` in training mode.
        restart_dead: if an integer R, a code nobody chose in the last R training batches
            is dead (*código muerto*) and restarts at an encoder output of the current
            batch drawn at random (minigen's seeded generator).

    Usage: ``counts`` (K,) adds up how many positions chose each code in training mode
    since the last ``reset_usage()`` (call it at the start of an epoch);
    ``codes_used()`` is how many codes were chosen at least once.

    The codebook starts ~ U(-1/K, 1/K), as in common implementations.

    >>> import minigen
    >>> minigen.manual_seed(0)
    >>> vq = VectorQuantizer(num_codes=4, code_dim=3)
    >>> q = vq(minigen.randn(2, 3, 5, 5))
    >>> q.z_q.shape, q.indices.shape, vq.codebook.shape
    ((2, 3, 5, 5), (2, 5, 5), (4, 3))
    """

    def __init__(self, num_codes: int, code_dim: int, beta: float = BETA, ema: bool = False,
                 decay: float = 0.99, epsilon: float = 1e-5,
                 restart_dead: int | None = None) -> None:
        super().__init__()
        self.num_codes = checks.positive_int("VectorQuantizer", "num_codes", num_codes)
        self.code_dim = checks.positive_int("VectorQuantizer", "code_dim", code_dim)
        checks.in_range("VectorQuantizer", "beta", beta, 0)
        checks.in_range("VectorQuantizer", "decay", decay, 0, 1, closed="neither")
        checks.positive_number("VectorQuantizer", "epsilon", epsilon)
        if restart_dead is not None:
            checks.positive_int("VectorQuantizer", "restart_dead", restart_dead)
        self.beta, self.ema, self.decay, self.epsilon = float(beta), bool(ema), decay, epsilon
        self.restart_dead = restart_dead
        xp, dtype = backend.xp, backend.get_default_dtype()
        bound = 1.0 / num_codes
        book = ((2 * backend.rng(xp).random((num_codes, code_dim)) - 1) * bound).astype(dtype)
        if self.ema:
            self.register_buffer("codebook", Tensor(book))
            # N_k = 1 and m_k = e_k: each code starts as the mean of one vector, itself.
            self.register_buffer("cluster_size", Tensor(xp.ones(num_codes, dtype=dtype)))
            self.register_buffer("code_sum", Tensor(book.copy()))
        else:
            self.codebook = nn.Parameter(book)
        self.register_buffer("counts", Tensor(xp.zeros(num_codes, dtype="int64")))
        self.register_buffer("idle", Tensor(xp.zeros(num_codes, dtype="int64")))  # batches unused

    def forward(self, z_e: Any) -> Quantized:
        z_e = as_tensor(z_e)
        if z_e.ndim != 4 or z_e.shape[1] != self.code_dim:
            raise ValueError(f"VectorQuantizer: expected z_e (N, {self.code_dim}, H, W), "
                             f"got shape {z_e.shape}")
        z_q, indices = quantize(z_e, self.codebook)           # (N, D, H, W), (N, H, W)
        e_k = lookup(self.codebook, indices)                  # carries the codebook's gradient
        commitment = commitment_loss(z_e, e_k)
        if self.ema:
            codebook, loss = None, self.beta * commitment
        else:
            codebook = codebook_loss(z_e, e_k)
            loss = codebook + self.beta * commitment
        if self.training:
            self._update(z_e, indices)
        return Quantized(z_q, indices, loss, codebook, commitment)

    @no_grad()
    def _update(self, z_e: Tensor, indices: Tensor) -> None:
        """Training-mode bookkeeping after a batch: usage counts, EMA step, dead-code restarts."""
        batch_counts = code_counts(indices, self.num_codes)               # (K,)
        self.counts.data = self.counts.data + batch_counts
        self.idle.data = (self.idle.data + 1) * (batch_counts == 0)
        if self.ema:
            self.cluster_size.data, self.code_sum.data, self.codebook.data = ema_update(
                self.cluster_size.data, self.code_sum.data, z_e, indices, self.decay,
                self.epsilon)
        if self.restart_dead is not None:
            self._restart(z_e)

    def _restart(self, z_e: Tensor) -> None:
        """Move each code idle for ``restart_dead`` batches onto a random encoder output."""
        xp = backend.array_module(self.idle.data)
        dead = xp.flatnonzero(self.idle.data >= self.restart_dead)        # (R,)
        if dead.size == 0:
            return
        z = z_e.data.transpose(0, 2, 3, 1).reshape(-1, self.code_dim)     # (M, D)
        picks = (backend.rng(xp).random(dead.size) * z.shape[0]).astype("int64")
        book = self.codebook.data.copy()
        book[dead] = z[picks]
        self.codebook.data = book
        self.idle.data = self.idle.data * (self.idle.data < self.restart_dead)
        if self.ema:                      # the restarted code is the mean of one vector again
            self.cluster_size.data[dead] = 1
            self.code_sum.data[dead] = z[picks]

    def reset_usage(self) -> None:
        """Set ``counts`` to zero (start of an epoch)."""
        self.counts.data = self.counts.data * 0

    def codes_used(self) -> int:
        """How many codes were chosen at least once since ``reset_usage()`` (training mode)."""
        return int((self.counts.data > 0).sum())

    def extra_repr(self) -> str:
        text = f"num_codes={self.num_codes}, code_dim={self.code_dim}, beta={self.beta:g}"
        if self.ema:
            text += f", ema=True, decay={self.decay:g}"
        if self.restart_dead is not None:
            text += f", restart_dead={self.restart_dead}"
        return text


class VQVAEOutput(NamedTuple):
    """``VQVAE.forward``: the reconstruction x̂ (N, 1, 28, 28) in [0, 1], the encoder output
    z_e (N, D, 7, 7) and the quantizer's output (z_q, indices, losses)."""

    x_hat: Tensor
    z_e: Tensor
    quantized: Quantized

    @property
    def indices(self) -> Tensor:
        return self.quantized.indices


class VQVAE(nn.Module):
    """A VQ-VAE for 1x28x28 images, with K codes of size D on a 7x7 map.

        encoder  Conv 1->32  k3 s2 p1 + ReLU      (N, 1, 28, 28) -> (N, 32, 14, 14)
                 Conv 32->64 k3 s2 p1 + ReLU                     -> (N, 64, 7, 7)
                 Conv 64->D  k1                                  -> (N, D, 7, 7)    z_e
        quantize the nearest of K codes                          -> (N, D, 7, 7)    z_q
        decoder  ConvT D->64  k1 + ReLU                          -> (N, 64, 7, 7)
                 ConvT 64->32 k3 s2 p1 op1 + ReLU                -> (N, 32, 14, 14)
                 ConvT 32->1  k3 s2 p1 op1 + sigmoid             -> (N, 1, 28, 28)  x̂

    The decoder ends in a sigmoid: x̂ is an image in [0, 1], the target of the squared
    error. ``data_variance`` is var(x) of the training pixels (a buffer, saved with the
    model); the other options go to the ``VectorQuantizer``.
    """

    def __init__(self, num_codes: int = 128, code_dim: int = 16, beta: float = BETA,
                 ema: bool = False, restart_dead: int | None = None,
                 data_variance: float = 1.0) -> None:
        super().__init__()
        checks.positive_number("VQVAE", "data_variance", data_variance)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),     # (N, 32, 14, 14)
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),    # (N, 64, 7, 7)
            nn.Conv2d(64, code_dim, 1),                              # (N, D, 7, 7)
        )
        self.quantizer = VectorQuantizer(num_codes, code_dim, beta, ema=ema,
                                         restart_dead=restart_dead)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(code_dim, 64, 1), nn.ReLU(),          # (N, 64, 7, 7)
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),                                               # (N, 32, 14, 14)
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1),
        )                                                            # (N, 1, 28, 28) logits
        dtype = backend.get_default_dtype()
        self.register_buffer("data_variance", Tensor(backend.xp.asarray(data_variance, dtype)))

    @property
    def num_codes(self) -> int:
        return self.quantizer.num_codes

    def encode(self, x: Any) -> Tensor:
        """z_e (N, D, 7, 7) of images x (N, 1, 28, 28)."""
        x = as_tensor(x)
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
            raise ValueError(f"VQVAE: expected images (N, 1, 28, 28), got shape {x.shape}")
        return self.encoder(x)

    def decode(self, z_q: Any) -> Tensor:
        """x̂ = σ(decoder(z_q)): (N, D, 7, 7) -> images (N, 1, 28, 28) in [0, 1]."""
        return sigmoid(self.decoder(z_q))

    def forward(self, x: Any) -> VQVAEOutput:
        z_e = self.encode(x)                                         # (N, D, 7, 7)
        quantized = self.quantizer(z_e)
        return VQVAEOutput(self.decode(quantized.z_q), z_e, quantized)

    def codes(self, x: Any) -> Tensor:
        """The code map k (N, 7, 7) of images x: what the prior models."""
        with no_grad():
            was_training = self.training
            self.eval()
            indices = self(x).indices
            self.train(was_training)
        return indices

    def decode_codes(self, indices: Any) -> Tensor:
        """Images (N, 1, 28, 28) in [0, 1] decoded from a code map (N, 7, 7) of integers."""
        xp = backend.array_module(self.quantizer.codebook.data)
        data = backend.to_module(check_code_map("VQVAE.decode_codes", indices, self.num_codes), xp)
        with no_grad():
            return self.decode(lookup(self.quantizer.codebook, data)).detach()

    def reconstruct(self, x: Any) -> Tensor:
        """x̂ (N, 1, 28, 28) in [0, 1] of images x, in evaluation mode (no codebook update)."""
        with no_grad():
            return self.decode_codes(self.codes(x))
