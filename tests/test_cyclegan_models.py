"""CycleGAN's networks: shapes, the paper's parameter counts, the PatchGAN's receptive field
(by shape algebra and by a gradient), instance norm, and the training step (generators
first with the discriminators frozen, then the discriminators)."""
import time

import pytest

import minigen
from minigen import backend, nn
from minigen.data import load_digits
from minigen.generative import ImagePool
from minigen.models.gans import dcgan_init_
from minigen.models.cyclegan import PAPER, SMALL, CycleGAN, PatchDiscriminator, ResnetGenerator
from minigen.training.cyclegan import (discriminator_step, generator_step, linear_decay,
                                       make_optimizers, make_schedulers, training_step)

np = backend.np


def n_conv(i, o, k):
    return i * o * k * k + o            # every conv has a bias (see the module docstring)


def expected_generator(c, k, n):
    """c7s1-k, d2k, d4k, R4k x n (two 3x3 convs each), u2k, uk, c7s1-c."""
    return (n_conv(c, k, 7) + n_conv(k, 2 * k, 3) + n_conv(2 * k, 4 * k, 3)
            + n * 2 * n_conv(4 * k, 4 * k, 3)
            + n_conv(4 * k, 2 * k, 3) + n_conv(2 * k, k, 3) + n_conv(k, c, 7))


def snapshot(module):
    return [p.numpy().copy() for p in module.parameters()]


def changed(before, module):
    return [not np.array_equal(b, p.numpy()) for b, p in zip(before, module.parameters())]


# ---------------------------------------------------------------- shapes and sizes
@pytest.mark.parametrize("blocks, millions", [(9, 11.378), (6, 7.838)])
def test_paper_generator_parameter_counts(blocks, millions):
    g = ResnetGenerator(3, 3, ngf=64, n_blocks=blocks)
    assert g.num_parameters() == expected_generator(3, 64, blocks)
    assert round(g.num_parameters() / 1e6, 3) == millions


def test_paper_discriminator_parameter_count():
    d = PatchDiscriminator(3, ndf=64, n_layers=3)
    expected = (n_conv(3, 64, 4) + n_conv(64, 128, 4) + n_conv(128, 256, 4)
                + n_conv(256, 512, 4) + n_conv(512, 1, 4))
    assert d.num_parameters() == expected
    assert round(d.num_parameters() / 1e6, 3) == 2.765


def test_small_configuration_shapes():
    minigen.manual_seed(0)
    model = CycleGAN(1, **SMALL)
    x = minigen.rand(3, 1, 28, 28) * 2 - 1
    out = model.g(x)
    assert out.shape == (3, 1, 28, 28)
    assert np.abs(out.numpy()).max() <= 1.0                       # tanh
    assert model.d_x(x).shape == (3, 1, 5, 5)                     # 28 -> 14 -> 7 -> 6 -> 5
    fake_y, rec_x, fake_x, rec_y = model(x, x)
    assert fake_y.shape == rec_x.shape == fake_x.shape == rec_y.shape == (3, 1, 28, 28)


def test_generator_stages_follow_the_paper_notation():
    g = ResnetGenerator(1, 1, ngf=8, n_blocks=2)
    names = [name for name, _ in g.stages()]
    assert names == ["c7s1-8", "d16", "d32", "R32", "R32", "u16", "u8", "c7s1-1"]
    x = minigen.zeros(2, 1, 28, 28)
    shapes = []
    for _, stage in g.stages():
        x = stage(x)
        shapes.append(x.shape[1:])
    assert shapes == [(8, 28, 28), (16, 14, 14), (32, 7, 7), (32, 7, 7), (32, 7, 7),
                      (16, 14, 14), (8, 28, 28), (1, 28, 28)]


def test_generator_uses_reflection_padding_and_instance_norm_without_running_stats():
    g = ResnetGenerator(1, 1, ngf=4, n_blocks=1)
    convs = [m for m in g.modules() if isinstance(m, nn.Conv2d)]
    assert [c.padding_mode for c in convs if c.kernel_size == (7, 7)] == ["reflect", "reflect"]
    block = g.transformer[0]
    assert all(c.padding_mode == "reflect" for c in block.modules() if isinstance(c, nn.Conv2d))
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(not n.affine for n in norms)
    assert list(g.buffers()) == []                                # no running statistics


def test_instance_norm_makes_train_and_eval_and_batch_the_same():
    minigen.manual_seed(1)
    g = ResnetGenerator(1, 1, ngf=4, n_blocks=1).apply(dcgan_init_)
    x = minigen.randn(3, 1, 28, 28)
    train_out = g(x).numpy()
    eval_out = g.eval()(x).numpy()
    alone = g(x[1:2]).numpy()
    np.testing.assert_allclose(train_out, eval_out, rtol=0, atol=0)
    np.testing.assert_allclose(train_out[1:2], alone, rtol=1e-5, atol=1e-6)


def test_paper_discriminator_map_size_and_receptive_field():
    d = PatchDiscriminator(3, ndf=8, n_layers=3)
    assert d.receptive_field() == 70
    assert d.output_size(256) == 30
    assert d(minigen.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)


@pytest.mark.parametrize("n_layers, field, size", [(1, 16, 12), (2, 34, 5), (3, 70, 1)])
def test_receptive_field_by_shape_algebra_on_28(n_layers, field, size):
    d = PatchDiscriminator(1, ndf=4, n_layers=n_layers)
    assert d.receptive_field() == field
    assert d(minigen.zeros(1, 1, 28, 28)).shape == (1, 1, size, size)


@pytest.mark.parametrize("n_layers, i, j", [(3, 4, 5), (2, 6, 3)])
def test_receptive_field_empirically(n_layers, i, j):
    """d score(i, j) / d input is nonzero exactly on the patch ``patch(i, j)`` (convs only:
    instance norm would mix whole-image statistics into every score)."""
    minigen.manual_seed(2)
    d = PatchDiscriminator(2, ndf=4, n_layers=n_layers, norm="none")
    x = minigen.randn(1, 2, 96, 96, requires_grad=True)
    score = d(x)[0, 0, i, j]
    (grad,) = minigen.grad(score, x)
    rows, cols = np.nonzero(np.abs(grad.numpy()).sum(axis=(0, 1)))
    top, left, size = d.patch(i, j)
    assert size == d.receptive_field()
    assert top >= 0 and left >= 0 and top + size <= 96 and left + size <= 96   # inside
    assert (rows.min(), rows.max() + 1) == (top, top + size)
    assert (cols.min(), cols.max() + 1) == (left, left + size)


def test_bad_inputs_are_refused_with_the_layer_and_shape():
    g = ResnetGenerator(1, 1, ngf=4, n_blocks=1)
    with pytest.raises(ValueError, match=r"ResnetGenerator.*\(N, 1, H, W\).*\(2, 3, 28, 28\)"):
        g(minigen.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="multiples of 4"):
        g(minigen.zeros(2, 1, 30, 30))
    with pytest.raises(ValueError, match="too small"):
        PatchDiscriminator(1, ndf=4, n_layers=3)(minigen.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match="ngf must be a positive integer"):
        ResnetGenerator(1, 1, ngf=0)
    with pytest.raises(ValueError, match="n_blocks"):
        ResnetGenerator(1, 1, n_blocks=-1)
    with pytest.raises(ValueError, match="norm"):
        PatchDiscriminator(1, norm="batch")
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=1)
    opt_g, opt_d = make_optimizers(model)
    with pytest.raises(ValueError, match="same size"):
        training_step(model, opt_g, opt_d, minigen.zeros(1, 1, 28, 28), minigen.zeros(1, 1, 32, 32),
                      ImagePool(0), ImagePool(0))


def test_gan_initialization():
    minigen.manual_seed(3)
    model = CycleGAN(1, ngf=16, n_blocks=2, ndf=16, n_layers=2)
    weights = np.concatenate([m.weight.numpy().ravel() for m in model.modules()
                              if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    biases = np.concatenate([m.bias.numpy().ravel() for m in model.modules()
                             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(weights.std() - 0.02) < 0.001 and abs(weights.mean()) < 0.001
    assert not biases.any()


# ---------------------------------------------------------------- training
def small_batch(seed=0, n=2):
    rng = np.random.default_rng(seed)
    x = minigen.tensor(rng.uniform(-1, 1, (n, 1, 28, 28)).astype("float32"))
    y = minigen.tensor(rng.uniform(-1, 1, (n, 1, 28, 28)).astype("float32"))
    return x, y


def test_generator_step_updates_generators_with_discriminators_frozen():
    minigen.manual_seed(4)
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=2)
    opt_g, _ = make_optimizers(model)
    x, y = small_batch()
    g_before, f_before = snapshot(model.g), snapshot(model.f)
    dx_before, dy_before = snapshot(model.d_x), snapshot(model.d_y)
    parts, fakes = generator_step(model, opt_g, x, y)
    assert all(p.grad is None for p in model.discriminator_parameters())   # never in the graph
    assert not any(changed(dx_before, model.d_x) + changed(dy_before, model.d_y))
    assert all(p.requires_grad for p in model.discriminator_parameters())  # unfrozen after
    assert sum(changed(g_before, model.g)) > len(g_before) // 2
    assert sum(changed(f_before, model.f)) > len(f_before) // 2
    assert parts["g_total"] == pytest.approx(parts["gan_g"] + parts["gan_f"] + 10 * parts["cycle"]
                                             + 5 * parts["identity"], rel=1e-5)
    assert fakes.fake_y.shape == x.shape and not fakes.fake_y.requires_grad


def test_bias_before_instance_norm_gets_no_gradient():
    """IN removes each channel's mean, so the bias of the conv before it cancels exactly."""
    minigen.manual_seed(5)
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=2)
    opt_g, _ = make_optimizers(model)
    generator_step(model, opt_g, *small_batch())
    down = model.g.encoder[1][0]                       # d8: Conv - IN - ReLU
    last = model.g.decoder[2][0]                       # c7s1-1: Conv - Tanh, no IN
    assert np.abs(down.bias.grad.numpy()).max() < 1e-6 * np.abs(down.weight.grad.numpy()).max()
    assert np.abs(last.bias.grad.numpy()).max() > 1e-4


def test_discriminator_step_updates_only_discriminators():
    minigen.manual_seed(6)
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=2)
    opt_g, opt_d = make_optimizers(model)
    x, y = small_batch()
    _, fakes = generator_step(model, opt_g, x, y)
    g_before, dx_before, dy_before = snapshot(model.g), snapshot(model.d_x), snapshot(model.d_y)
    losses = discriminator_step(model, opt_d, x, y, fakes, ImagePool(4, seed=0), ImagePool(4, seed=1))
    assert not any(changed(g_before, model.g))
    assert all(changed(dx_before, model.d_x)) and all(changed(dy_before, model.d_y))
    assert set(losses) == {"d_x", "d_y"} and all(v > 0 for v in losses.values())


def test_identity_loss_off_skips_it():
    minigen.manual_seed(7)
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=2)
    opt_g, opt_d = make_optimizers(model)
    parts = training_step(model, opt_g, opt_d, *small_batch(), ImagePool(0), ImagePool(0),
                          lambda_id=0.0)
    assert parts["identity"] == 0.0
    assert parts["g_total"] == pytest.approx(parts["gan_g"] + parts["gan_f"] + 10 * parts["cycle"],
                                             rel=1e-5)


def test_a_few_steps_learn_a_translation():
    """Translating images to their negatives (y = -x in [-1, 1]): the cycle loss falls."""
    minigen.manual_seed(8)
    model = CycleGAN(1, ngf=8, n_blocks=1, ndf=8, n_layers=2)
    opt_g, opt_d = make_optimizers(model, lr=2e-3)
    images = minigen.tensor(2 * load_digits("test")[0][:8] - 1)
    pools = ImagePool(0), ImagePool(0)
    cycles = [training_step(model, opt_g, opt_d, images[:4], -images[4:], *pools,
                            lambda_id=0.0)["cycle"] for _ in range(15)]
    assert np.mean(cycles[-3:]) < 0.5 * np.mean(cycles[:3])


def test_linear_decay_schedule():
    model = CycleGAN(1, ngf=4, n_blocks=1, ndf=4, n_layers=1)
    optimizers = make_optimizers(model)
    assert all(opt.lr == 2e-4 and opt.betas == (0.5, 0.999) for opt in optimizers)
    schedulers = make_schedulers(optimizers, n_epochs=3, n_epochs_decay=4)
    lrs = []
    for _ in range(7):
        lrs.append(optimizers[0].lr)
        assert optimizers[1].lr == optimizers[0].lr
        for s in schedulers:
            s.step()
    factors = [linear_decay(3, 4)(t) for t in range(7)]
    assert factors == pytest.approx([1, 1, 1, 0.8, 0.6, 0.4, 0.2])
    np.testing.assert_allclose(lrs, [2e-4 * f for f in factors])


def test_paper_configuration_runs_one_training_step_on_64x64_rgb():
    minigen.manual_seed(9)
    model = CycleGAN(3, **PAPER)
    assert model.g.num_parameters() == 11_378_179
    assert model.d_x.num_parameters() == 2_764_737
    opt_g, opt_d = make_optimizers(model)
    rng = np.random.default_rng(0)
    x = minigen.tensor(rng.uniform(-1, 1, (1, 3, 64, 64)).astype("float32"))
    y = minigen.tensor(rng.uniform(-1, 1, (1, 3, 64, 64)).astype("float32"))
    assert model.d_y(y).shape == (1, 1, 6, 6)                  # 64 -> 32 -> 16 -> 8 -> 7 -> 6
    before = [p.numpy()[(0,) * p.ndim] for p in model.parameters()]
    start = time.perf_counter()
    parts = training_step(model, opt_g, opt_d, x, y, ImagePool(50, seed=0), ImagePool(50, seed=1))
    assert time.perf_counter() - start < 120                    # ~15 s on a busy 2-core CPU
    assert all(np.isfinite(v) for v in parts.values())
    after = [p.numpy()[(0,) * p.ndim] for p in model.parameters()]
    assert np.mean([b != a for b, a in zip(before, after)]) > 0.9
