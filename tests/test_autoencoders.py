"""Autoencoder, VAE and CVAE: shapes, methods, the use of labels, errors, and a few steps of
training that must lower the loss."""
import pytest

import minigen
from minigen import backend
from minigen.data import load_digits
from minigen.generative import elbo_loss
from minigen.models.autoencoders import CVAE, VAE, Autoencoder, ConvDecoder, ConvEncoder
from minigen.optim import Adam

np = backend.np
N, D = 5, 6


@pytest.fixture
def images():
    return minigen.tensor(load_digits("test")[0][:N])          # (5, 1, 28, 28)


def in_unit_interval(t):
    a = t.numpy()
    return a.min() >= 0.0 and a.max() <= 1.0


def n_linear(i, o):
    return i * o + o


def n_conv(i, o, k=3):
    return i * o * k * k + o


def test_bodies_shapes():
    assert ConvEncoder()(minigen.zeros(2, 1, 28, 28)).shape == (2, 3136)
    assert ConvDecoder(7)(minigen.zeros(2, 7)).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("model_class, heads, extra", [(Autoencoder, 1, 0), (VAE, 2, 0),
                                                       (CVAE, 2, 10)])
def test_parameter_count_matches_the_architecture(model_class, heads, extra):
    body = n_conv(1, 32) + n_conv(32, 64)                                       # encoder
    decoder = n_linear(D + extra, 3136) + n_conv(64, 32) + n_conv(32, 1)        # mirror
    expected = body + heads * n_linear(3136 + extra, D) + decoder
    assert model_class(latent_dim=D).num_parameters() == expected


def test_autoencoder_methods(images):
    minigen.manual_seed(0)
    ae = Autoencoder(latent_dim=D)
    z = ae.encode(images)
    assert z.shape == (N, D)
    assert ae.decode(z).shape == (N, 1, 28, 28)
    logits = ae(images)
    assert logits.shape == (N, 1, 28, 28)
    rec = ae.reconstruct(images)
    assert rec.shape == (N, 1, 28, 28) and in_unit_interval(rec)
    np.testing.assert_allclose(rec.numpy(), minigen.sigmoid(logits).numpy(), rtol=1e-6)
    samples = ae.sample(7)
    assert samples.shape == (7, 1, 28, 28) and in_unit_interval(samples)
    assert not samples.requires_grad


def test_vae_methods(images):
    minigen.manual_seed(0)
    vae = VAE(latent_dim=D)
    mu, logvar = vae.encode(images)
    assert mu.shape == logvar.shape == (N, D)
    logits, mu2, logvar2 = vae(images)
    assert logits.shape == (N, 1, 28, 28)
    np.testing.assert_array_equal(mu.numpy(), mu2.numpy())
    # forward samples z: two calls differ; reconstruct decodes the mean: it does not.
    assert not np.allclose(vae(images)[0].numpy(), logits.numpy())
    rec = vae.reconstruct(images)
    assert rec.shape == (N, 1, 28, 28) and in_unit_interval(rec)
    np.testing.assert_allclose(rec.numpy(), minigen.sigmoid(vae.decode(mu)).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(rec.numpy(), vae.reconstruct(images).numpy())


def test_sampling_uses_the_seeded_generator():
    vae = VAE(latent_dim=D)
    minigen.manual_seed(3)
    first = vae.sample(4).numpy()
    minigen.manual_seed(3)
    again = vae.sample(4).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0], first[1])          # different z per image
    assert first.shape == (4, 1, 28, 28) and 0 <= first.min() and first.max() <= 1


def test_cvae_methods_and_default_labels(images):
    minigen.manual_seed(0)
    cvae = CVAE(latent_dim=D)
    labels = [0, 1, 2, 3, 4]
    mu, logvar = cvae.encode(images, labels)
    assert mu.shape == logvar.shape == (N, D)
    logits, _, _ = cvae(images, labels)
    assert logits.shape == (N, 1, 28, 28)
    assert cvae.decode(mu, labels).shape == (N, 1, 28, 28)
    rec = cvae.reconstruct(images, np.array(labels))
    assert rec.shape == (N, 1, 28, 28) and in_unit_interval(rec)
    assert cvae.sample_labels(13).tolist() == list(range(10)) + [0, 1, 2]
    minigen.manual_seed(1)
    default = cvae.sample(13).numpy()
    minigen.manual_seed(1)
    cycled = cvae.sample(13, labels=minigen.tensor(np.arange(13) % 10)).numpy()
    np.testing.assert_array_equal(default, cycled)
    assert default.shape == (13, 1, 28, 28)


def test_cvae_uses_its_labels(images):
    minigen.manual_seed(0)
    cvae = CVAE(latent_dim=D)
    z = minigen.randn(N, D)
    as_zeros = cvae.decode(z, [0] * N).numpy()
    as_sevens = cvae.decode(z, [7] * N).numpy()
    assert np.abs(as_zeros - as_sevens).max() > 1e-3
    mu_a, _ = cvae.encode(images, [0] * N)
    mu_b, _ = cvae.encode(images, [7] * N)
    assert np.abs(mu_a.numpy() - mu_b.numpy()).max() > 1e-3
    minigen.manual_seed(2)
    a = cvae.sample(N, [3] * N).numpy()
    minigen.manual_seed(2)                                   # same z, other class
    b = cvae.sample(N, [8] * N).numpy()
    assert np.abs(a - b).max() > 1e-3


@pytest.mark.exercise_elbo
def test_every_parameter_gets_a_gradient_from_the_elbo(images):
    minigen.manual_seed(0)
    cvae = CVAE(latent_dim=D)
    logits, mu, logvar = cvae(images, [1, 2, 3, 4, 5])
    elbo_loss(logits, images, mu, logvar).loss.backward()
    missing = [name for name, p in cvae.named_parameters() if p.grad is None
               or not np.any(p.grad.numpy())]
    assert missing == []


@pytest.mark.exercise_elbo
def test_a_few_steps_lower_the_negative_elbo():
    minigen.manual_seed(0)
    x = minigen.tensor(load_digits("train")[0][:32])
    vae = VAE(latent_dim=4)
    opt = Adam(vae.parameters(), lr=1e-3)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        logits, mu, logvar = vae(x)
        loss = elbo_loss(logits, x, mu, logvar).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "16"])
@pytest.mark.parametrize("model_class", [Autoencoder, VAE, CVAE])
def test_bad_latent_dim_is_refused(model_class, bad):
    with pytest.raises(ValueError, match="latent_dim"):
        model_class(latent_dim=bad)


@pytest.mark.parametrize("model_class", [Autoencoder, VAE, CVAE])
def test_bad_inputs_are_refused(model_class):
    model = model_class(latent_dim=D)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model.encode(minigen.zeros(2, 28, 28)) if model_class is not CVAE else \
            model.encode(minigen.zeros(2, 28, 28), [0, 1])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.sample(0)
    with pytest.raises(ValueError, match=r"codes \(N, 6\)"):
        model.decode(minigen.zeros(2, 5)) if model_class is not CVAE else \
            model.decode(minigen.zeros(2, 5), [0, 1])


def test_cvae_label_errors(images):
    cvae = CVAE(latent_dim=D)
    with pytest.raises(ValueError, match="labels are required"):
        cvae.encode(images)
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        cvae.encode(images, [0, 1])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        cvae.sample(2, [3, 10])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        cvae.decode(minigen.zeros(1, D), [-1])
    with pytest.raises(TypeError, match="integers"):
        cvae.sample(2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="num_classes"):
        CVAE(num_classes=1)
