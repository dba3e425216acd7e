"""The catalogue of exercises: what each one asks for and how it is graded.

An exercise is one or more *solution regions* in the repository, each a block of code
between a ``# BEGIN SOLUTION <id>`` comment line and a ``# END SOLUTION`` comment line.
A region's id is the exercise's id, or one of the extra ``regions`` the exercise lists
(the lecture notebooks use ids such as ``softplus-minigen``, unique within a notebook).

Grading, by exercise:

* an exercise in minigen's own source is graded by the tests that carry the pytest marker
  ``exercise_<id>`` (registered in ``setup.cfg``, e.g. ``@pytest.mark.exercise_mul_backward``
  on a test in ``tests/``); a test may carry several markers;
* an exercise in a lecture notebook (``notebook`` is set) is graded by the notebook's own
  check cell: the code cell right after the last cell that holds one of its regions.

Exercises are listed in the order of the course: a later exercise may use an earlier one
(the GAN losses differentiate through ``Mul`` and ``Sum``), so an assignment that blanks
both is solved in this order.
"""
from __future__ import annotations

from dataclasses import dataclass

# Where each exercise is taught: a notebook in lectures/ (and, per exercise, the section
# heading of the cell that explains it).
ENGINE = "lectures/01_the_engine.ipynb"
GRADIENT_CHECKING = "lectures/02_gradient_checking.ipynb"
VAE = "lectures/03_autoencoders.ipynb"
VQ_VAE = "lectures/04_vq_vae.ipynb"
GAN = "lectures/05_gans.ipynb"
CYCLEGAN = "lectures/06_cyclegan.ipynb"

MARKER_PREFIX = "exercise_"


@dataclass(frozen=True)
class Exercise:
    """One exercise of the catalogue.

    Attributes:
        id: a Python identifier; the pytest marker is ``exercise_<id>``.
        title: what to write, in a few words (it is also the student's error message).
        difficulty: 1 (a line or two), 2 (a formula with shapes to get right), 3 (a
            derivation, or strides and indices).
        lecture: the lecture it belongs to (a notebook in ``lectures/``).
        section: the heading of the lecture's section that explains it (a markdown cell of
            the notebook starts with ``## <section>``).
        uses: the exercises whose code its tests run through (measured: blanking one of
            them makes some of this exercise's tests fail). In a student's own copy a wrong
            one of them fails this one too, so the report says "fix it first".
        contract: what its code must do for the code around it, where the source does not
            say it (the builder writes, above each blanked region, what the region must
            return or define, read from the source, and then this).
        fixes, bug: for the "find the bug" workbook: the exercise whose regions hold the
            planted bug (its tests grade the fix), and the bug as (a line of the solution,
            the wrong line that replaces it in the copy).
        regions: extra region ids that belong to this exercise besides ``id``.
        notebook: the notebook that holds and checks it, for a notebook exercise; None for
            an exercise in minigen's source, graded by its pytest marker.
        points: the points of a full score (default: the difficulty).
        needs_reference_kernels: its regions are inside a kernel that the fast kernels
            (``minigen.ops.fast``) may bypass, so a copy that blanks it must run every op on
            its reference path, or the student's code would not run in the models they
            train (the builder then sets ``REFERENCE_KERNELS_DEFAULT = True`` in the copy).
    """

    id: str
    title: str
    difficulty: int
    lecture: str
    regions: tuple[str, ...] = ()
    notebook: str | None = None
    points: float | None = None
    needs_reference_kernels: bool = False
    section: str = ""
    uses: tuple[str, ...] = ()
    contract: str = ""
    fixes: str | None = None
    bug: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not self.id.isidentifier():
            raise ValueError(f"exercise id {self.id!r} must be a Python identifier")
        if self.difficulty not in (1, 2, 3):
            raise ValueError(f"exercise {self.id}: difficulty must be 1, 2 or 3, "
                             f"got {self.difficulty!r}")

    @property
    def region_ids(self) -> tuple[str, ...]:
        """Every region id that belongs to this exercise (its own id first; for a planted
        bug, the regions of the exercise it fixes)."""
        if self.fixes:
            return get_exercise(self.fixes).region_ids
        return (self.id,) + tuple(r for r in self.regions if r != self.id)

    @property
    def marker(self) -> str | None:
        """The pytest marker of the tests that grade it; None for a notebook exercise."""
        if self.fixes:
            return get_exercise(self.fixes).marker
        return None if self.notebook else MARKER_PREFIX + self.id

    @property
    def dependencies(self) -> tuple[str, ...]:
        """The graded exercises whose failure can fail this one in a student's own copy:
        ``uses``, or for a planted bug the bugs planted in what its exercise uses."""
        if not self.fixes:
            return self.uses
        used = get_exercise(self.fixes).uses
        return tuple(e.id for e in CATALOG if e.fixes in used)

    @property
    def max_points(self) -> float:
        """The points of a full score."""
        return float(self.difficulty if self.points is None else self.points)

    @property
    def graded_by(self) -> str:
        """How it is graded, in words."""
        if self.notebook:
            return f"the check cell after the exercise in {self.notebook}"
        return f"pytest -m {self.marker}"

    def message(self) -> str:
        """The text of the ``NotImplementedError`` that replaces its regions."""
        return f"Exercise {self.id}: {self.title} — see {self.where_taught}"

    @property
    def where_taught(self) -> str:
        """The lecture, and its section where one is given."""
        return f"{self.lecture}, section '{self.section}'" if self.section else self.lecture


# What nearly every backward pass runs through (a gradient is multiplied, summed, and summed
# back over broadcast axes). Each exercise's ``uses`` below was measured: its tests run on
# the solutions in a tree with only that other exercise blanked, and fail.
_CORE = ("mul_backward", "sum_backward", "broadcast_sum")

CATALOG: tuple[Exercise, ...] = (
    # ---- lecture 1, the engine: backward passes of the basic ops
    Exercise("mul_backward", "the backward of Mul, y = a · b (product rule)", 1, ENGINE,
             section="4. A `Function`: forward and backward of one op", uses=("sum_backward", "broadcast_sum")),
    Exercise("matmul_backward", "the backward of MatMul, Y = A @ B (batched)", 2, ENGINE,
             section="5. Broadcasting: gradients are summed back", uses=_CORE),
    Exercise("sum_backward", "the backward of Sum: spread ∂L/∂y back over the summed axes",
             2, ENGINE, section="5. Broadcasting: gradients are summed back",
             uses=("mul_backward", "broadcast_sum")),
    Exercise("broadcast_sum", "sum_to: sum a gradient back over the axes that broadcasting "
             "added or stretched", 2, ENGINE, section="5. Broadcasting: gradients are summed "
             "back", uses=("mul_backward", "sum_backward")),
    Exercise("getitem_backward", "the backward of indexing x[index]: a scatter-add "
             "(GetItem.backward and ScatterAdd.forward)", 2, ENGINE,
             section="4. A `Function`: forward and backward of one op", uses=("sum_backward",)),
    Exercise("im2col", "im2col: every convolution window as a strided view (sliding_windows)",
             3, ENGINE, needs_reference_kernels=True,
             section="6. Convolution as im2col plus a matrix product",
             uses=_CORE + ("col2im", "conv2d_forward", "max_pool_backward")),
    Exercise("col2im", "col2im: add the windows back onto the image (add_windows)", 2, ENGINE,
             needs_reference_kernels=True, section="6. Convolution as im2col plus a matrix "
             "product", uses=_CORE + ("im2col", "conv2d_forward")),
    Exercise("conv2d_forward", "conv2d's forward: im2col, then one matrix product per group",
             2, ENGINE, needs_reference_kernels=True,
             section="6. Convolution as im2col plus a matrix product",
             uses=("broadcast_sum", "im2col", "col2im")),
    Exercise("max_pool_backward", "max pooling's backward: route each window's gradient to "
             "its winner (a col2im of masked taps)", 2, ENGINE, needs_reference_kernels=True,
             section="6. Convolution as im2col plus a matrix product",
             uses=("sum_backward", "im2col", "col2im")),
    Exercise("softmax_cross_entropy_backward", "the backward of logsumexp, ∂/∂x = softmax: "
             "it makes cross-entropy's gradient softmax(s) − onehot(y)", 2, VQ_VAE,
             section="7. Generating: random codes, then a learned prior", uses=_CORE + ("getitem_backward",)),
    # ---- lecture 2, gradient checking: the notebook's own exercises
    Exercise("softplus", "the backward of softplus, and the line of minigen that computes it",
             1, GRADIENT_CHECKING, regions=("softplus-minigen",), notebook=GRADIENT_CHECKING,
             section="7. Exercises: write the backward"),
    Exercise("logsumexp", "the backward of logsumexp over the last axis, and minigen's line",
             2, GRADIENT_CHECKING, regions=("logsumexp-minigen",), notebook=GRADIENT_CHECKING,
             section="7. Exercises: write the backward"),
    Exercise("swish", "swish as a whole Function (forward and backward), and minigen's σ' line",
             2, GRADIENT_CHECKING, regions=("swish-forward", "swish-backward", "swish-minigen"),
             notebook=GRADIENT_CHECKING, section="7. Exercises: write the backward"),
    Exercise("reflect_pad", "the backward of reflection padding, and minigen's lines", 3,
             GRADIENT_CHECKING, regions=("reflect-pad", "reflect-pad-minigen"),
             notebook=GRADIENT_CHECKING, section="7. Exercises: write the backward"),
    # ---- training and layers
    Exercise("adam_step", "one step of Adam (moments, bias correction, update)", 2, VAE,
             section="2. Training both", uses=_CORE + ("matmul_backward",),
             contract="update each parameter's p.data in place, and keep its moments in "
                      "self.state[i] as {'step', 'exp_avg', 'exp_avg_sq'} (state_dict saves "
                      "them)"),
    Exercise("instance_norm_backward", "the backward of Standardize, (x - μ)/σ per group "
             "(instance norm)", 3, CYCLEGAN, section="4. The ResNet generator, stage by stage",
             uses=_CORE),
    # ---- generative models
    Exercise("reparameterize", "the reparameterization trick z = μ + σ ⊙ ε", 1, VAE,
             section="1. Two losses", uses=_CORE),
    Exercise("kl_divergence", "KL(N(μ, σ²) || N(0, I)) from μ and log σ², with reductions",
             2, VAE, section="1. Two losses", uses=_CORE + ("bce_with_logits", "elbo")),
    Exercise("bce_with_logits", "binary cross-entropy from logits in its stable form, "
             "softplus(s) − y·s", 1, VAE, section="1. Two losses", uses=("mul_backward", "sum_backward")),
    Exercise("elbo", "the negative ELBO: the summed reconstruction term plus β · KL, means "
             "over the images", 2, VAE, section="1. Two losses",
             uses=_CORE + ("matmul_backward", "im2col", "col2im", "conv2d_forward", "adam_step", "bce_with_logits", "reparameterize", "kl_divergence")),
    Exercise("straight_through", "the backward of the straight-through estimator", 1, VQ_VAE,
             section="3. Three losses, and where each gradient goes",
             uses=_CORE + ("getitem_backward", "vq_losses")),
    Exercise("vq_losses", "the VQ-VAE codebook and commitment losses (where the stop-gradients "
             "go)", 2, VQ_VAE, section="3. Three losses, and where each gradient goes",
             uses=_CORE + ("getitem_backward", "straight_through")),
    Exercise("gan_losses", "the GAN discriminator and generator losses from logits "
             "(non-saturating and saturating)", 2, GAN,
             section="7. Saturating vs non-saturating generator loss",
             uses=_CORE + ("lsgan_losses",)),
    Exercise("lsgan_losses", "the least-squares GAN losses", 1, CYCLEGAN,
             section="6. The losses: competition and cooperation",
             uses=_CORE + ("gan_losses",)),
    Exercise("gradient_penalty", "the WGAN-GP gradient penalty on random interpolates "
             "(a gradient that is differentiated again)", 2, GAN,
             section="9. The Wasserstein critic with gradient penalty",
             uses=_CORE + ("matmul_backward", "im2col", "col2im", "conv2d_forward")),
    Exercise("image_pool", "CycleGAN's image pool: fill it, then swap half of the fakes for "
             "stored ones", 1, CYCLEGAN, section="7. Training",
             contract="return a batch shaped like images; draw the choices from self._rng"),
    Exercise("cyclegan_losses", "CycleGAN's cycle-consistency and identity losses (L1)", 1,
             CYCLEGAN, section="6. The losses: competition and cooperation",
             uses=_CORE + ("lsgan_losses", "cyclegan_objective")),
    Exercise("cyclegan_objective", "CycleGAN's generator objective: LSGAN + λ_cyc cycle + "
             "λ_id identity", 2, CYCLEGAN, section="6. The losses: competition and cooperation",
             uses=("lsgan_losses", "cyclegan_losses")),
    Exercise("pixelcnn_mask", "PixelCNN's causal masks: A and B, and the gated stacks' V, "
             "HA, HB", 2, VQ_VAE, section="7. Generating: random codes, then a learned prior",
             uses=_CORE + ("getitem_backward", "im2col", "col2im", "conv2d_forward")),
    # ---- the "find the bug" workbook (minigen assignment build --debugging): in the copy,
    # ---- the region runs one subtly wrong line; gradcheck finds it, the tests grade the fix
    Exercise("bug_matmul_transpose", "find and fix the bug in MatMul's backward", 2, ENGINE,
             section="5. Broadcasting: gradients are summed back", fixes="matmul_backward",
             bug=("grad_a = matmul(grad, _swap_last(b))", "grad_a = matmul(grad, b)")),
    Exercise("bug_broadcast_sum", "find and fix the bug in sum_to (the engine's sum over "
             "broadcast axes)", 2, ENGINE, section="5. Broadcasting: gradients are summed back",
             fixes="broadcast_sum",
             bug=("    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)\n"
                  "                                      if s == 1 and x.shape[lead + i] != 1)",
                  "    axes = tuple(range(lead))")),
    Exercise("bug_kl_sign", "find and fix the bug in the KL divergence", 1, VAE,
             section="1. Two losses", fixes="kl_divergence",
             bug=("1 + logvar - mu * mu - exp(logvar)", "1 + logvar + mu * mu - exp(logvar)")),
    Exercise("bug_instance_norm_factor", "find and fix the bug in instance norm's backward", 3,
             CYCLEGAN, section="4. The ResNet generator, stage by stage",
             fixes="instance_norm_backward",
             bug=("return (grad - mean_g - x_hat * mean_g_x_hat) / sigma",
                  "return (grad - mean_g - 2 * x_hat * mean_g_x_hat) / sigma")),
    Exercise("bug_col2im_off_by_one", "find and fix the bug in col2im (add_windows)", 2, ENGINE,
             section="6. Convolution as im2col plus a matrix product", fixes="col2im",
             needs_reference_kernels=True,
             bug=("    for i in range(kh):", "    for i in range(kh - 1):")),
)


def list_exercises() -> list[Exercise]:
    """Every exercise of the catalogue, in the order of the course (the workbook's planted
    bugs included)."""
    return list(CATALOG)


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a ``KeyError`` that lists the known ids otherwise."""
    for exercise in CATALOG:
        if exercise.id == exercise_id:
            return exercise
    raise KeyError(f"unknown exercise {exercise_id!r}; known: {', '.join(e.id for e in CATALOG)}")


def exercise_of_region(region_id: str) -> Exercise | None:
    """The exercise a ``# BEGIN SOLUTION <region_id>`` belongs to, or None if none does."""
    for exercise in CATALOG:
        if not exercise.fixes and region_id in exercise.region_ids:
            return exercise
    return None


def select(only: str | list[str] | tuple[str, ...] | None,
           debugging: bool = False) -> list[Exercise]:
    """The exercises named by ``only`` (ids, or one comma-separated string), in catalogue
    order; when ``only`` is None, every exercise to write (or, with ``debugging``, every
    planted bug of the workbook). Unknown or repeated ids are an error."""
    if only is None:
        return [e for e in CATALOG if bool(e.fixes) == debugging]
    ids = [i.strip() for i in only.split(",")] if isinstance(only, str) else [str(i) for i in only]
    ids = [i for i in ids if i]
    if not ids:
        raise ValueError("no exercise named (give ids such as mul_backward,kl_divergence)")
    known = {e.id for e in CATALOG}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValueError(f"unknown exercise(s) {', '.join(unknown)}; known: "
                         f"{', '.join(e.id for e in CATALOG)}")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"exercise(s) named twice: {', '.join(repeated)}")
    return [e for e in CATALOG if e.id in ids]
