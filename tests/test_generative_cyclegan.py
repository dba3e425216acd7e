"""CycleGAN's objective (weights and parts) and the image pool's contract."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen as mg
from minigen.generative import (ImagePool, cycle_consistency_loss, cyclegan_generator_objective,
                                identity_loss)
from minigen.testing import arrays


@pytest.mark.exercise_cyclegan_losses
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(*[arrays((n, 1, 3, 3)) for _ in range(2)])))
def test_cycle_and_identity_losses_are_mean_absolute_errors(values):
    x, x_rec = values
    expected = np.mean(np.abs(x_rec - x))
    t = [mg.tensor(a, dtype="float64", requires_grad=True) for a in values]
    assert cycle_consistency_loss(*t).item() == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert identity_loss(*t).item() == pytest.approx(expected, rel=1e-12, abs=1e-15)
    diff = x_rec - x
    if np.all(np.abs(diff) > 1e-3):  # away from the kink of |·|
        mg.gradcheck(cycle_consistency_loss, t)


@pytest.mark.exercise_cyclegan_losses
@pytest.mark.exercise_cyclegan_objective
def test_objective_weights_and_parts():
    rng = np.random.default_rng(0)
    x, y, fgx, gfy, gy, fx = (mg.tensor(rng.random((2, 1, 4, 4)), dtype="float64") for _ in range(6))
    dy, dx = (mg.tensor(rng.random((2, 1, 2, 2)), dtype="float64") for _ in range(2))
    out = cyclegan_generator_objective(dy, dx, x, fgx, y, gfy, gy, fx)
    l1 = lambda a, b: np.mean(np.abs(a.numpy() - b.numpy()))  # noqa: E731
    gan = np.mean((dy.numpy() - 1) ** 2) + np.mean((dx.numpy() - 1) ** 2)
    cycle = l1(fgx, x) + l1(gfy, y)
    ident = l1(gy, y) + l1(fx, x)
    assert out.cycle.item() == pytest.approx(cycle)
    assert out.identity.item() == pytest.approx(ident)
    assert (out.gan_g + out.gan_f).item() == pytest.approx(gan)
    assert out.total.item() == pytest.approx(gan + 10 * cycle + 5 * ident)  # λ_id = ½ λ_cyc
    no_id = cyclegan_generator_objective(dy, dx, x, fgx, y, gfy, gy, fx, lambda_id=0.0)
    assert no_id.total.item() == pytest.approx(gan + 10 * cycle)


@pytest.mark.exercise_image_pool
def test_image_pool_fills_then_swaps_about_half():
    pool = ImagePool(size=4, seed=0)
    first = mg.tensor(np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1))
    assert np.array_equal(pool.query(first).numpy(), first.numpy())  # filling: returned as is
    swapped = 0
    for step in range(200):
        new = mg.full((1, 1, 1, 1), 100.0 + step)
        out = pool.query(new).numpy().item()
        assert out == 100.0 + step or out < 100.0 + step  # the new image or an older stored one
        swapped += out != 100.0 + step
    assert 70 < swapped < 130  # p = 1/2 over 200 draws (5 standard deviations ≈ 35)
    assert len(pool.images) == 4


@pytest.mark.exercise_image_pool
def test_image_pool_is_seeded_and_size_zero_passes_through():
    batches = [mg.randn(3, 1, 2, 2) for _ in range(5)]

    def run(seed):
        pool = ImagePool(size=2, seed=seed)
        return [pool.query(b).numpy() for b in batches]

    assert all(np.array_equal(a, b) for a, b in zip(run(7), run(7)))
    off = ImagePool(size=0)
    assert np.array_equal(off.query(batches[0]).numpy(), batches[0].numpy())
    with pytest.raises(ValueError, match="ImagePool: size must be an integer >= 0, got -1"):
        ImagePool(size=-1)


def test_image_pool_returns_no_graph():
    x = mg.randn(2, 1, 2, 2, requires_grad=True)
    assert not ImagePool(size=1, seed=0).query(x * 2).requires_grad


def test_image_pool_state_dict_round_trip_and_errors():
    pool = ImagePool(size=3, seed=0)
    assert pool.state_dict()["images"].shape == (0,)
    pool.query(mg.randn(5, 1, 2, 2))
    state = pool.state_dict()
    assert state["images"].shape == (3, 1, 2, 2)
    restored, twin = ImagePool(size=3, seed=4), ImagePool(size=3, seed=4)
    restored.load_state_dict(state)
    twin.load_state_dict(state)
    assert [im.numpy().tolist() for im in restored.images] == state["images"].tolist()
    # full from the start: it hands out stored images (new ones are > 50; the same for a seed)
    new = mg.randn(20, 1, 2, 2) + 100
    out = restored.query(new).numpy()
    assert np.array_equal(out, twin.query(new).numpy())
    from_store = [o for o in out if o.max() < 50]
    assert 0 < len(from_store) < 20
    assert all(any(np.array_equal(o, im) for im in state["images"]) for o in from_store)

    small = ImagePool(size=2, seed=0)
    with pytest.raises(ValueError, match="3 images do not fit a pool of size 2"):
        small.load_state_dict(state)
    with pytest.raises(KeyError, match="expected the key 'images'"):
        small.load_state_dict({"images": state["images"][:1], "extra": 1})
    assert small.images == []  # nothing loaded by the failed calls
