"""Vector quantization: nearest codes, the straight-through gradient and the VQ losses,
with the exact gradient semantics of the VQ-VAE paper."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import minigen as mg
from minigen.generative import (StraightThrough, codebook_loss, commitment_loss, lookup,
                                nearest_code, perplexity, quantize, straight_through)
from minigen.testing import arrays

from gradient_registry import covers


@st.composite
def vq_cases(draw):
    n, d, h, w, k = (draw(st.integers(1, 3), label=s) for s in "NDHWK")
    z_e = draw(arrays((n, d, h, w)), label="z_e")
    codebook = draw(arrays((k, d), unique=True), label="codebook")
    return z_e, codebook


def brute_force_nearest(z_e, codebook):
    n, d, h, w = z_e.shape
    out = np.zeros((n, h, w), dtype=int)
    for i in range(n):
        for y in range(h):
            for x in range(w):
                dist = [np.sum((z_e[i, :, y, x] - e) ** 2) for e in codebook]
                out[i, y, x] = int(np.argmin(dist))
    return out


def test_the_worked_example_of_the_slides():
    codebook = mg.tensor([[0.2, -1.1, 0.7], [1.3, 0.5, -0.2], [-0.8, 0.9, 1.1], [0.0, -0.3, 0.4]],
                         dtype="float64")
    z_e = mg.tensor(np.array([0.1, -1.0, 0.6]).reshape(1, 3, 1, 1), dtype="float64")
    indices, distances = nearest_code(z_e, codebook)
    assert_allclose(distances.numpy().ravel(), [0.03, 4.33, 4.67, 0.54], atol=1e-12)
    assert indices.numpy().item() == 0   # e1
    z_q, _ = quantize(z_e, codebook)
    assert_allclose(z_q.numpy().ravel(), [0.2, -1.1, 0.7])


@given(vq_cases())
def test_nearest_code_matches_brute_force(case):
    z_e, codebook = case
    indices, distances = nearest_code(mg.tensor(z_e, dtype="float64"),
                                      mg.tensor(codebook, dtype="float64"))
    expected_dist = ((z_e.transpose(0, 2, 3, 1)[..., None, :] - codebook) ** 2).sum(-1)
    assert_allclose(distances.numpy(), expected_dist, rtol=1e-9, atol=1e-9)
    # The chosen code is as near as the brute-force choice (equal distances may differ in
    # the last bit between the two formulas, so compare distances, not indices).
    chosen = np.take_along_axis(expected_dist, indices.numpy()[..., None], -1)[..., 0]
    brute = np.take_along_axis(expected_dist, brute_force_nearest(z_e, codebook)[..., None], -1)
    assert_allclose(chosen, brute[..., 0], rtol=1e-9, atol=1e-12)


def test_ties_go_to_the_lowest_index():
    codebook = mg.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])   # codes 0 and 2 equal
    z_e = mg.tensor(np.array([0.9, 0.1]).reshape(1, 2, 1, 1))
    assert nearest_code(z_e, codebook)[0].numpy().item() == 0
    # equidistant from codes 0 and 1
    assert nearest_code(mg.tensor(np.array([0.5, 0.5]).reshape(1, 2, 1, 1)), codebook)[0].item() == 0


@pytest.mark.exercise_straight_through
@covers(StraightThrough)
@given(vq_cases(), st.data())
def test_straight_through_copies_the_gradient_exactly(case, data):
    # The forward ignores z_e, so finite differences do not apply: check the definition.
    z_e, codebook = case
    indices, _ = nearest_code(mg.tensor(z_e), mg.tensor(codebook))
    z = mg.tensor(z_e, dtype="float64", requires_grad=True)
    book = mg.tensor(codebook, dtype="float64", requires_grad=True)
    e_k = lookup(book, indices)
    z_q = straight_through(z, e_k)
    assert_allclose(z_q.numpy(), e_k.numpy())                 # the value of the codes
    upstream = data.draw(arrays(z_e.shape), label="upstream")
    z_q.backward(mg.tensor(upstream, dtype="float64"))
    assert_allclose(z.grad.numpy(), upstream, rtol=0, atol=0)  # copied unchanged
    assert book.grad is None                                   # nothing to the codebook


@pytest.mark.exercise_straight_through
@pytest.mark.exercise_vq_losses
@given(vq_cases(), st.floats(0.1, 2.0))
def test_vq_gradient_semantics(case, beta):
    """encoder: decoder gradient + 2β/M (z_e - e_k); codebook: 2/M Σ (e_k - z_e) over the
    positions that chose it, exactly 0 for unused codes; decoder: ordinary backprop."""
    z_e, codebook = case
    z = mg.tensor(z_e, dtype="float64", requires_grad=True)
    book = mg.tensor(codebook, dtype="float64", requires_grad=True)
    decoder_w = mg.tensor(np.linspace(-1, 1, z_e.shape[1]).reshape(1, -1, 1, 1), dtype="float64",
                          requires_grad=True)
    z_q, indices = quantize(z, book)
    e_k = lookup(book, indices)
    reconstruction = (z_q * decoder_w).sum()                   # a linear "decoder"
    loss = reconstruction + codebook_loss(z, e_k) + beta * commitment_loss(z, e_k)
    loss.backward()

    m = z_e.size
    e = codebook[indices.numpy()].transpose(0, 3, 1, 2)        # e_k as (N, D, H, W)
    decoder_grad = np.broadcast_to(decoder_w.numpy(), z_e.shape)
    assert_allclose(z.grad.numpy(), decoder_grad + 2 * beta / m * (z_e - e), rtol=1e-10, atol=1e-12)
    expected_book = np.zeros_like(codebook)
    chosen = indices.numpy()
    for k in range(codebook.shape[0]):
        where = chosen == k
        if where.any():
            diff = (e - z_e).transpose(0, 2, 3, 1)[where]       # (positions, D)
            expected_book[k] = 2 / m * diff.sum(axis=0)
    assert_allclose(book.grad.numpy(), expected_book, rtol=1e-10, atol=1e-12)
    unused = np.setdiff1d(np.arange(codebook.shape[0]), chosen)
    assert np.all(book.grad.numpy()[unused] == 0)              # dead codes do not move
    assert_allclose(decoder_w.grad.numpy().ravel(), e.sum(axis=(0, 2, 3)), rtol=1e-10)


@pytest.mark.exercise_vq_losses
@given(vq_cases())
def test_vq_losses_gradients(case):
    # sg[·] makes each loss's value depend on an input it sends no gradient to, so each is
    # checked against finite differences in the input it does train, the other held fixed.
    z_e, codebook = case
    indices, _ = nearest_code(mg.tensor(z_e), mg.tensor(codebook))
    z = mg.tensor(z_e, dtype="float64")
    book = mg.tensor(codebook, dtype="float64")
    mg.gradcheck(lambda b: codebook_loss(z, lookup(b, indices)), [book.detach().requires_grad_()])
    mg.gradcheck(lambda t: commitment_loss(t, lookup(book, indices)), [z.detach().requires_grad_()])


def test_perplexity():
    assert perplexity(np.arange(8), 8) == pytest.approx(8)      # all codes equally
    assert perplexity(np.zeros(10, dtype=int), 8) == pytest.approx(1)
    assert perplexity(np.array([0, 0, 1, 1]), 8) == pytest.approx(2)


def test_errors():
    with pytest.raises(ValueError, match=r"z_e must be \(N, D, H, W\)"):
        nearest_code(mg.zeros(2, 3), mg.zeros(4, 3))
    with pytest.raises(ValueError, match=r"codebook must be \(K, D\) with D = 3"):
        quantize(mg.zeros(1, 3, 2, 2), mg.zeros(4, 2))
    with pytest.raises(ValueError, match="straight_through"):
        straight_through(mg.zeros(1, 3, 2, 2), mg.zeros(1, 3, 2, 1))
