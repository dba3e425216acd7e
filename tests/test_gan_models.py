"""The GAN players: shapes, the architecture (parameter counts), DCGAN's initialization,
the CGAN's use of its labels, and clear errors for bad input."""
import pytest

import minigen
from minigen import backend, nn
from minigen.generative import gradient_penalty
from minigen.models.gans import (ConditionalDiscriminator, ConditionalGenerator, Critic,
                                 Discriminator, Generator, MLPDiscriminator, MLPGenerator)

np = backend.np
Z, C = 6, 4          # tiny sizes: fast tests


def n_linear(i, o, bias=True):
    return i * o + (o if bias else 0)


def n_conv(i, o, k=4, bias=True):
    return i * o * k * k + (o if bias else 0)


def n_bn(c):
    return 2 * c


def test_shapes_of_every_player():
    minigen.manual_seed(0)
    z = minigen.randn(3, Z)
    x = minigen.rand(3, 1, 28, 28) * 2 - 1
    y = [0, 5, 9]
    assert MLPGenerator(Z, hidden=(8, 16))(z).shape == (3, 1, 28, 28)
    assert Generator(Z, C)(z).shape == (3, 1, 28, 28)
    assert ConditionalGenerator(Z, C)(z, y).shape == (3, 1, 28, 28)
    assert MLPDiscriminator(hidden=(16, 8))(x).shape == (3,)
    assert Discriminator(C)(x).shape == (3,)
    assert Critic(C)(x).shape == (3,)
    assert ConditionalDiscriminator(C)(x, y).shape == (3,)


def test_parameter_counts_match_the_architecture_table():
    g_body = n_linear(Z, 2 * C * 49, bias=False) + n_bn(2 * C) + n_conv(2 * C, C, bias=False) \
        + n_bn(C) + n_conv(C, 1)
    assert Generator(Z, C).num_parameters() == g_body
    assert ConditionalGenerator(Z, C).num_parameters() == g_body + 10 * 2 * C * 49
    d_tail = n_linear(2 * C * 49, 1)
    assert Discriminator(C).num_parameters() == n_conv(1, C) + n_conv(C, 2 * C, bias=False) \
        + n_bn(2 * C) + d_tail
    assert Critic(C).num_parameters() == n_conv(1, C) + n_conv(C, 2 * C) + d_tail
    assert ConditionalDiscriminator(C).num_parameters() == n_conv(11, C) \
        + n_conv(C, 2 * C, bias=False) + n_bn(2 * C) + d_tail
    assert MLPGenerator(Z, (8, 16)).num_parameters() == n_linear(Z, 8) + n_linear(8, 16) \
        + n_linear(16, 784)
    assert MLPDiscriminator((16, 8)).num_parameters() == n_linear(784, 16) + n_linear(16, 8) \
        + n_linear(8, 1)


def test_batch_norm_everywhere_but_the_generator_output_and_discriminator_input():
    def layer_kinds(model):
        return [type(m).__name__ for m in model.layers]
    g = layer_kinds(Generator(Z, C))
    assert g[-2:] == ["ConvTranspose2d", "Tanh"]                  # no BN at G's output
    assert g.count("BatchNorm2d") == 2
    d = layer_kinds(Discriminator(C))
    assert d[:2] == ["Conv2d", "LeakyReLU"]                       # no BN at D's input
    assert d.count("BatchNorm2d") == 1
    assert all(m.negative_slope == 0.2 for m in Discriminator(C).layers
               if isinstance(m, nn.LeakyReLU))
    assert "BatchNorm2d" not in layer_kinds(Critic(C))             # WGAN-GP: none in the critic


def test_dcgan_initialization_statistics():
    minigen.manual_seed(0)
    for model in (Generator(100, 64), Discriminator(64), ConditionalDiscriminator(64)):
        for name, p in model.named_parameters():
            a = p.numpy()
            module = model.layers[int(name.split(".")[1])]
            if name.endswith("bias"):
                assert np.all(a == 0), name
            elif isinstance(module, nn.BatchNorm2d):
                assert abs(a.mean() - 1) < 0.02 and abs(a.std() - 0.02) < 0.01, name
            else:
                assert abs(a.mean()) < 0.002 and abs(a.std() - 0.02) < 0.002, name


def test_generator_outputs_lie_in_minus_one_one_and_samples_in_zero_one():
    minigen.manual_seed(1)
    g = Generator(Z, C)
    out = g(minigen.randn(8, Z)).numpy()
    assert -1 < out.min() < 0 < out.max() < 1
    for bias, bound in ((50.0, 1.0), (-50.0, -1.0)):              # saturate the tanh
        nn.init.constant_(g.layers[-2].bias, bias)
        np.testing.assert_allclose(g(minigen.randn(2, Z)).numpy(), bound)
    g = Generator(Z, C)
    for model in (g, MLPGenerator(Z, (8, 16))):
        s = model.sample(5).numpy()
        assert s.shape == (5, 1, 28, 28) and s.min() >= 0 and s.max() <= 1
    z = g.noise(4)
    np.testing.assert_allclose(g.generate(z).numpy(), (g.eval()(z).numpy() + 1) / 2, atol=1e-6)


def test_generate_keeps_the_mode_and_records_no_graph():
    g = Generator(Z, C)
    g.train()
    z = minigen.randn(2, Z, requires_grad=True)
    out = g.generate(z)
    assert g.training and not out.requires_grad
    g.eval()
    g.generate(z)
    assert not g.training


def test_samples_are_seeded():
    g = Generator(Z, C)
    minigen.manual_seed(3)
    a = g.sample(4).numpy()
    minigen.manual_seed(3)
    np.testing.assert_array_equal(a, g.sample(4).numpy())
    assert not np.allclose(a, g.sample(4).numpy())


def test_conditional_generator_uses_its_label():
    minigen.manual_seed(0)
    g = ConditionalGenerator(Z, C)
    z = g.noise(1)
    z2 = minigen.concat([z, z], axis=0)                            # the same noise twice
    same = g.generate(z2, [3, 3]).numpy()
    other = g.generate(z2, [3, 8]).numpy()
    np.testing.assert_array_equal(same[0], same[1])
    assert not np.allclose(other[0], other[1])
    np.testing.assert_array_equal(g.sample_labels(12), np.arange(12) % 10)
    assert g.sample(11).shape == (11, 1, 28, 28)
    # labels as list, NumPy array and integer Tensor give the same images
    for labels in ([3, 8], np.array([3, 8]), minigen.tensor(np.array([3, 8]))):
        np.testing.assert_array_equal(g.generate(z2, labels).numpy(), other)


def test_conditional_discriminator_uses_its_label():
    minigen.manual_seed(0)
    d = ConditionalDiscriminator(C).eval()
    x = minigen.rand(1, 1, 28, 28)
    x2 = minigen.concat([x, x], axis=0)
    s = d(x2, [1, 1]).numpy()
    assert s[0] == s[1]
    s = d(x2, [1, 7]).numpy()
    assert s[0] != s[1]


@pytest.mark.parametrize("labels, error, match", [
    (None, ValueError, "labels are required"),
    ([0, 1], ValueError, r"labels must have shape \(3,\)"),
    ([[0], [1], [2]], ValueError, r"labels must have shape \(3,\)"),
    ([0, 1, 10], ValueError, r"labels must lie in \[0, 10\)"),
    ([0, -1, 2], ValueError, r"labels must lie in \[0, 10\)"),
    ([0.0, 1.0, 2.0], TypeError, "labels must be integers"),
])
def test_bad_labels_are_refused_by_name(labels, error, match):
    z, x = minigen.randn(3, Z), minigen.zeros(3, 1, 28, 28)
    with pytest.raises(error, match="ConditionalGenerator: " + match):
        ConditionalGenerator(Z, C)(z, labels)
    with pytest.raises(error, match="ConditionalDiscriminator: " + match):
        ConditionalDiscriminator(C)(x, labels)
    if labels is None:
        with pytest.raises(error, match="ConditionalGenerator: " + match):
            ConditionalGenerator(Z, C).generate(z)


@pytest.mark.parametrize("model, bad, match", [
    (Generator(Z, C), minigen.zeros(2, Z + 1), r"Generator: expected noise z of shape \(N, 6\)"),
    (Generator(Z, C), minigen.zeros(2, 1, Z), r"Generator: expected noise z"),
    (MLPGenerator(Z, (8, 8)), minigen.zeros(Z), r"MLPGenerator: expected noise z"),
    (Discriminator(C), minigen.zeros(2, 3, 28, 28), r"Discriminator: expected images \(N, 1, "
                                                    r"28, 28\).*\(2, 3, 28, 28\)"),
    (Critic(C), minigen.zeros(2, 1, 32, 32), r"Critic: expected images"),
    (MLPDiscriminator((8, 8)), minigen.zeros(2, 784), r"MLPDiscriminator: expected images"),
])
def test_bad_shapes_are_refused_by_name(model, bad, match):
    with pytest.raises(ValueError, match=match):
        model(bad)


@pytest.mark.parametrize("make, match", [
    (lambda: Generator(0, C), "latent_dim must be a positive integer"),
    (lambda: Generator(Z, 2.5), "channels must be a positive integer"),
    (lambda: Discriminator(True), "channels must be a positive integer"),
    (lambda: MLPGenerator(Z, (8, 0)), "hidden must be a positive integer"),
    (lambda: Generator(Z, C).sample(0), "n must be a positive integer"),
])
def test_bad_settings_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.exercise_gradient_penalty
def test_critic_takes_a_gradient_penalty():
    """The critic has no batch norm, so the penalty's second derivative reaches its weights."""
    minigen.manual_seed(0)
    critic = Critic(C)
    real, fake = minigen.rand(4, 1, 28, 28), minigen.rand(4, 1, 28, 28)
    gp = gradient_penalty(critic, real, fake)
    gp.backward()
    first = critic.layers[0].weight.grad.numpy()
    assert np.isfinite(gp.item()) and gp.item() > 0
    assert np.abs(first).sum() > 0


def test_the_critic_penalty_is_per_image():
    """Critic scores of one image do not depend on the other images of its batch (why the
    critic has no batch norm); the discriminator's do in training mode."""
    minigen.manual_seed(0)
    x = minigen.rand(4, 1, 28, 28)
    critic, disc = Critic(C), Discriminator(C).train()
    np.testing.assert_allclose(critic(x).numpy()[:2], critic(x[:2]).numpy(), rtol=1e-5)
    assert not np.allclose(disc(x).numpy()[:2], disc(x[:2]).numpy(), rtol=1e-5)
