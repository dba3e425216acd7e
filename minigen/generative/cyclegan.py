"""CycleGAN's objective and its image pool.

Two generators, G: X -> Y and F: Y -> X, and two discriminators, D_Y (judges G's
translations) and D_X (judges F's). With no paired examples, cycle consistency
(*consistencia cíclica*) asks that translating there and back returns the input:
F(G(x)) ≈ x and G(F(y)) ≈ y. The generators minimize

    L = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc + λ_id L_id

with LSGAN adversarial terms (competition) and L1 cycle and identity terms
(cooperation); λ_cyc = 10 and λ_id = ½ λ_cyc as in the paper's code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minigen import backend, checks
from minigen.functional.losses import l1_loss
from minigen.generative.gan import lsgan_generator_loss
from minigen.ops import stack
from minigen.ops.arguments import as_tensor
from minigen.tensor import Tensor


def cycle_consistency_loss(x: Any, x_rec: Any) -> Tensor:
    """||F(G(x)) - x||₁ as a mean over pixels (and images)."""
    # BEGIN SOLUTION cyclegan_losses
    return l1_loss(as_tensor(x_rec), as_tensor(x))
    # END SOLUTION


def identity_loss(y: Any, g_y: Any) -> Tensor:
    """||G(y) - y||₁ (mean): a generator given an image of its own output domain should
    leave it alone. It keeps colours (here: stroke intensity) from drifting."""
    # BEGIN SOLUTION cyclegan_losses
    return l1_loss(as_tensor(g_y), as_tensor(y))
    # END SOLUTION


@dataclass
class CycleGANObjective:
    """The generators' total loss and its parts (each a scalar tensor)."""

    total: Tensor
    gan_g: Tensor      # L_GAN(G, D_Y): LSGAN on D_Y(G(x))
    gan_f: Tensor      # L_GAN(F, D_X): LSGAN on D_X(F(y))
    cycle: Tensor      # ||F(G(x)) - x||₁ + ||G(F(y)) - y||₁
    identity: Tensor   # ||G(y) - y||₁ + ||F(x) - x||₁ (0 when not used)


def cyclegan_generator_objective(d_y_of_g_x: Any, d_x_of_f_y: Any, x: Any, f_g_x: Any, y: Any,
                                 g_f_y: Any, g_y: Any = None, f_x: Any = None,
                                 lambda_cyc: float = 10.0,
                                 lambda_id: float | None = None) -> CycleGANObjective:
    """L = L_GAN(G, D_Y) + L_GAN(F, D_X) + λ_cyc L_cyc + λ_id L_id.

    Args:
        d_y_of_g_x, d_x_of_f_y: the discriminators' outputs on the translations.
        x, f_g_x / y, g_f_y: the real images and their round trips F(G(x)) / G(F(y)).
        g_y, f_x: G(y) and F(x) for the identity loss (leave out, or λ_id = 0, to skip it).
        lambda_id: defaults to ½ λ_cyc.
    """
    lambda_id = 0.5 * lambda_cyc if lambda_id is None else lambda_id
    # BEGIN SOLUTION cyclegan_objective
    gan_g = lsgan_generator_loss(d_y_of_g_x)
    gan_f = lsgan_generator_loss(d_x_of_f_y)
    cycle = cycle_consistency_loss(x, f_g_x) + cycle_consistency_loss(y, g_f_y)
    total = gan_g + gan_f + lambda_cyc * cycle
    if lambda_id and g_y is not None and f_x is not None:
        identity = identity_loss(y, g_y) + identity_loss(x, f_x)
        total = total + lambda_id * identity
    else:
        identity = Tensor(backend.array_module(as_tensor(x).data).zeros((), dtype=as_tensor(x).dtype))
    return CycleGANObjective(total=total, gan_g=gan_g, gan_f=gan_f, cycle=cycle, identity=identity)
    # END SOLUTION


class ImagePool:
    """A history of generated images for the discriminator updates (Shrivastava et al. 2017).

    Until ``size`` images are stored, every new image is stored and returned as is. Once
    full, each new image is returned as is with probability ½; otherwise a random stored
    image is returned instead and the new one takes its place. Training the
    discriminator on older fakes too keeps it from chasing the generator's latest
    mode. ``size=0`` turns the pool off. Seeded: the same ``seed`` gives the same choices.

    ``state_dict()`` holds the stored images (not the choices' generator: a training loop
    that resumes re-seeds it, as ``minigen.runs.cyclegan`` does every epoch).
    """

    def __init__(self, size: int = 50, seed: int | None = None) -> None:
        self.size = checks.positive_int("ImagePool", "size", size, minimum=0)
        self.images: list[Tensor] = []
        seed = int(backend.rng().integers(0, 2**31)) if seed is None else seed
        self._rng = backend.np.random.default_rng(seed)

    def query(self, images: Tensor) -> Tensor:
        """A batch of the same shape as ``images`` (N, ...), mixed with stored ones."""
        images = as_tensor(images).detach()  # the pool keeps values, never graphs
        if self.size == 0:
            return images
        # BEGIN SOLUTION image_pool
        out = []
        for i in range(images.shape[0]):
            image = images[i]
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self._rng.random() < 0.5:
                k = int(self._rng.integers(0, self.size))
                out.append(self.images[k])
                self.images[k] = image
            else:
                out.append(image)
        return stack(out, axis=0)
        # END SOLUTION

    def state_dict(self) -> dict[str, Any]:
        """``{"images": (K, ...) array}``, the K ≤ size stored images (K = 0: shape (0,))."""
        np = backend.np
        images = [backend.to_numpy(image.data) for image in self.images]
        return {"images": np.stack(images) if images else np.zeros((0,), dtype=np.float32)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Store the images of ``state`` (from ``state_dict``), replacing the current ones.
        Checked first: nothing changes on an error."""
        if not isinstance(state, dict) or set(state) != {"images"}:
            keys = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise KeyError(f"ImagePool.load_state_dict: expected the key 'images', got {keys}")
        images = state["images"]
        if len(images) > self.size:
            raise ValueError(f"ImagePool.load_state_dict: {len(images)} images do not fit a "
                             f"pool of size {self.size}")
        self.images = [Tensor(backend.xp.asarray(image)) for image in images]


