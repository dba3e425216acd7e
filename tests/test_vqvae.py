"""VectorQuantizer and VQVAE: shapes, errors, the EMA codebook, dead-code revival, the
gradient semantics of the whole model, and a short training run."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import minigen as mg
from minigen.data import DataLoader, load_digits
from minigen.generative.vq import code_counts, counts_perplexity, ema_update, perplexity
from minigen.models.vqvae import VQVAE, VectorQuantizer
from minigen.training.vqvae import vqvae_loss
from minigen.optim import Adam


# ---------------------------------------------------------------- shapes and errors
def test_shapes_and_parts():
    mg.manual_seed(0)
    model = VQVAE(num_codes=8, code_dim=4)
    x = mg.rand(3, 1, 28, 28)
    out = model(x)
    assert out.x_hat.shape == (3, 1, 28, 28) and out.z_e.shape == (3, 4, 7, 7)
    assert out.indices.shape == (3, 7, 7) and out.quantized.z_q.shape == (3, 4, 7, 7)
    assert 0 <= out.x_hat.numpy().min() and out.x_hat.numpy().max() <= 1   # sigmoid output
    assert set(vqvae_loss(model, x)) == {"loss", "reconstruction", "codebook", "commitment"}
    assert model.codes(x).shape == (3, 7, 7)
    assert model.decode_codes(np.zeros((2, 7, 7), dtype=np.int64)).shape == (2, 1, 28, 28)
    assert "quantizer.codebook" in dict(model.named_parameters())    # learned by gradient


def test_the_loss_is_the_sum_of_its_parts():
    mg.manual_seed(1)
    x = mg.rand(4, 1, 28, 28)
    model = VQVAE(num_codes=16, data_variance=float(x.numpy().var())).eval()
    parts = vqvae_loss(model, x)
    x_hat = model.reconstruct(x).numpy()
    expected_rec = ((x.numpy() - x_hat) ** 2).mean() / x.numpy().var()
    assert parts["reconstruction"].item() == pytest.approx(expected_rec, rel=1e-5)
    assert parts["loss"].item() == pytest.approx(
        parts["reconstruction"].item() + parts["codebook"].item()
        + 0.25 * parts["commitment"].item(), rel=1e-6)
    # the two VQ losses have the same value; they differ only in where the gradient goes
    assert parts["codebook"].item() == pytest.approx(parts["commitment"].item(), rel=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="VectorQuantizer: num_codes"):
        VectorQuantizer(0, 4)
    with pytest.raises(ValueError, match="VectorQuantizer: beta"):
        VectorQuantizer(4, 4, beta=-1)
    with pytest.raises(ValueError, match="VectorQuantizer: decay"):
        VectorQuantizer(4, 4, ema=True, decay=1.0)
    with pytest.raises(ValueError, match="VectorQuantizer: restart_dead"):
        VectorQuantizer(4, 4, restart_dead=0)
    with pytest.raises(ValueError, match=r"VectorQuantizer: expected z_e \(N, 4, H, W\)"):
        VectorQuantizer(8, 4)(mg.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="VQVAE: data_variance"):
        VQVAE(data_variance=0.0)
    model = VQVAE(num_codes=8)
    with pytest.raises(ValueError, match=r"VQVAE: expected images \(N, 1, 28, 28\)"):
        model(mg.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match=r"codes must lie in \[0, 8\)"):
        model.decode_codes(np.full((1, 7, 7), 8))
    with pytest.raises(TypeError, match="must be integers"):
        model.decode_codes(np.zeros((1, 7, 7)))
    with pytest.raises(ValueError, match=r"expected a code map \(N, H, W\)"):
        model.decode_codes(np.zeros((7, 7), dtype=np.int64))


# ---------------------------------------------------------------- code usage
def test_code_counts_and_perplexity_of_counts():
    indices = np.array([[0, 0], [3, 0]])
    assert code_counts(indices, 5).tolist() == [3, 0, 0, 1, 0]
    p = np.array([3, 1]) / 4
    assert counts_perplexity(code_counts(indices, 5)) == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert perplexity(indices, 5) == counts_perplexity(code_counts(indices, 5))


def test_usage_counts_only_in_training_mode():
    mg.manual_seed(0)
    vq = VectorQuantizer(6, 2)
    z = mg.randn(2, 2, 3, 3)
    chosen = vq(z).indices.numpy()
    assert vq.counts.numpy().tolist() == np.bincount(chosen.ravel(), minlength=6).tolist()
    assert vq.codes_used() == len(np.unique(chosen))
    vq.eval()(z)
    assert vq.counts.numpy().sum() == 18            # evaluation does not count
    vq.reset_usage()
    assert vq.codes_used() == 0


# ---------------------------------------------------------------- the EMA codebook
def test_ema_update_by_hand():
    # K = 3 codes, D = 2, four positions; γ = 0.9, ε = 0.1.
    cluster_size = np.array([2.0, 1.0, 1.0])
    code_sum = np.array([[2.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    z_e = np.array([[1.0, 3.0, 0.0, 2.0], [1.0, 1.0, 2.0, 0.0]]).reshape(1, 2, 2, 2)
    indices = np.array([[[0, 0], [1, 0]]])           # code 0 thrice, code 1 once, code 2 never
    n_new, m_new, book = ema_update(cluster_size, code_sum, mg.tensor(z_e, dtype="float64"),
                                    indices, decay=0.9, epsilon=0.1)
    # n_k = (3, 1, 0); s_0 = (1,1)+(3,1)+(2,0) = (6, 2); s_1 = (0, 2)
    assert_allclose(n_new, [0.9 * 2 + 0.1 * 3, 0.9 + 0.1, 0.9])             # (2.1, 1.0, 0.9)
    assert_allclose(m_new, [[1.8 + 0.6, 0.2], [0.0, 0.9 + 0.2], [4.5, 4.5]])
    n = 2.1 + 1.0 + 0.9                                                         # 4.0
    smoothed = np.array([2.2, 1.1, 1.0]) / (n + 0.3) * n
    assert_allclose(book, np.array([[2.4, 0.2], [0.0, 1.1], [4.5, 4.5]]) / smoothed[:, None])


def test_ema_quantizer_updates_its_codebook_and_drops_the_codebook_loss():
    mg.manual_seed(0)
    vq = VectorQuantizer(5, 3, ema=True, decay=0.8)
    assert [name for name, _ in vq.named_parameters()] == []      # nothing learned by gradient
    before = {name: b.numpy().copy() for name, b in vq.named_buffers()}
    z = mg.randn(2, 3, 4, 4, requires_grad=True)
    q = vq(z)
    expected = ema_update(before["cluster_size"], before["code_sum"], z, q.indices, 0.8, 1e-5)
    for name, value in zip(("cluster_size", "code_sum", "codebook"), expected):
        assert_allclose(getattr(vq, name).numpy(), value, rtol=1e-6)
    assert_allclose(q.z_q.numpy(), before["codebook"][q.indices.numpy()].transpose(0, 3, 1, 2))
    assert q.codebook is None
    assert q.loss.item() == pytest.approx(0.25 * q.commitment.item())
    vq.eval()
    frozen = vq.codebook.numpy().copy()
    vq(z)
    assert_allclose(vq.codebook.numpy(), frozen)                  # no update in evaluation


# ---------------------------------------------------------------- reviving dead codes
def _far_codebook_run(steps, **options):
    """Data z ~ N(0, 1) in 2-D; 8 codes on a line far to the right, (10 + k, 0): at first
    every vector picks code 0, the others are dead. Train the codebook alone (z fixed)."""
    mg.manual_seed(0)
    vq = VectorQuantizer(8, 2, **options)
    vq.codebook.data = np.array([[10.0 + k, 0.0] for k in range(8)], dtype=np.float32)
    if vq.ema:
        vq.code_sum.data = vq.codebook.data.copy()
    optimizer = Adam(vq.parameters(), lr=0.05) if not vq.ema else None
    z = mg.randn(4, 2, 4, 4)
    assert len(np.unique(vq.eval()(z).indices.numpy())) == 1
    vq.train()
    for _ in range(steps):
        q = vq(z)
        if optimizer is not None:
            optimizer.zero_grad()
            q.loss.backward()
            optimizer.step()
    return len(np.unique(vq.eval()(z).indices.numpy()))


def test_dead_codes_stay_dead_without_help():
    # the codebook loss gives exactly zero gradient to a code nobody chooses
    assert _far_codebook_run(1500) == 1


def test_ema_with_laplace_smoothing_revives_dead_codes():
    # m_k and N_k of a dead code decay as γ^t, but the smoothed Ñ_k stops near ε, so
    # e_k = m_k / Ñ_k shrinks towards the origin and reaches the data
    assert _far_codebook_run(1500, ema=True) >= 4


def test_restarting_dead_codes_revives_them():
    assert _far_codebook_run(6, restart_dead=5) >= 4


def test_restart_moves_dead_codes_onto_encoder_outputs():
    mg.manual_seed(0)
    vq = VectorQuantizer(4, 2, restart_dead=1)
    vq.codebook.data = np.array([[0, 0], [50, 50], [60, 60], [70, 70]], dtype=np.float32)
    z = mg.randn(1, 2, 3, 3)
    vq(z)                                               # codes 1..3 idle for 1 batch: restart
    vectors = z.numpy().transpose(0, 2, 3, 1).reshape(-1, 2)
    for row in vq.codebook.numpy()[1:]:
        assert np.any(np.all(np.isclose(vectors, row), axis=1))
    assert vq.idle.numpy().tolist() == [0, 0, 0, 0]


# ---------------------------------------------------------------- gradients of the whole model
def test_gradient_semantics_of_the_whole_vqvae():
    """encoder output z_e gets the decoder's gradient + 2β/M (z_e - e_k); the codebook gets
    2/M Σ (e_k - z_e) over the positions that chose it and exactly 0 for the others; the
    decoder gets ordinary backprop of the reconstruction loss only."""
    mg.set_default_dtype("float64")
    mg.manual_seed(3)
    model = VQVAE(num_codes=64, code_dim=4, data_variance=0.1)
    x = mg.rand(2, 1, 28, 28)
    z_e = model.encode(x)
    q = model.quantizer(z_e)
    x_hat = model.decode(q.z_q)
    reconstruction = ((x - x_hat) ** 2).mean() / 0.1
    loss = reconstruction + q.loss
    book = model.quantizer.codebook
    decoder_params = list(model.decoder.parameters())
    g_ze, g_zq, g_book, *g_dec = mg.grad(loss, [z_e, q.z_q, book, *decoder_params])

    m = z_e.numel()
    e = book.numpy()[q.indices.numpy()].transpose(0, 3, 1, 2)      # e_k (N, D, 7, 7)
    assert_allclose(g_ze.numpy(), g_zq.numpy() + 2 * 0.25 / m * (z_e.numpy() - e), atol=1e-12)
    expected = np.zeros_like(book.numpy())
    np.add.at(expected, q.indices.numpy(), (2 / m * (e - z_e.numpy())).transpose(0, 2, 3, 1))
    assert_allclose(g_book.numpy(), expected, atol=1e-12)
    unused = np.setdiff1d(np.arange(64), q.indices.numpy())
    assert unused.size > 0 and np.all(g_book.numpy()[unused] == 0)
    # the decoder: the same gradient as the reconstruction loss of fixed codes e_k
    fixed = model.decode(mg.tensor(e))
    rec_only = ((x - fixed) ** 2).mean() / 0.1
    for got, want in zip(g_dec, mg.grad(rec_only, decoder_params)):
        assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- training
def test_a_short_training_run_lowers_the_loss():
    images, _ = load_digits("train")
    images = images[:256]
    mg.manual_seed(0)
    model = VQVAE(restart_dead=4, data_variance=float(images.var()))
    optimizer = Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(3):
        for (x,) in DataLoader((images,), 32, shuffle=True):
            optimizer.zero_grad()
            parts = vqvae_loss(model, x)
            parts["loss"].backward()
            optimizer.step()
            losses.append(parts["reconstruction"].item())
    assert np.mean(losses[-4:]) < 0.6 * np.mean(losses[:4])
