"""``minigen train realnvp`` on tiny sizes, and the RealNVP model: exact inverses, the
bits-per-dimension formula, the run folder, a resumed run equal to an uninterrupted one,
sampling, and bad settings refused."""
import json
import math

import numpy as np
import pytest

import minigen as mg
from minigen.models import RealNVP
from minigen.runs import CHECKPOINT, METRICS, sample_run, train
from minigen.serialization import load
from minigen.training.config import ConfigError
from minigen.training.flows import DIMS, FlowConfig, evaluate_bits, nll_bits, to_levels

TINY = dict(hidden=4, batch_size=16, train_size=32, test_size=20, epochs=2, picture_samples=2,
            lr=0.005)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("realnvp") / "run"
    train(FlowConfig(**TINY), out, progress=False, log=quiet)
    return out


def test_the_flow_inverts_exactly_and_starts_as_the_logit_transform():
    mg.set_default_dtype("float64")
    mg.manual_seed(0)
    flow = RealNVP(hidden=4)
    x = mg.rand(3, 1, 28, 28) * 0.98 + 0.01
    z, log_det = flow(x)
    assert z.shape == (3, 16, 7, 7) and log_det.shape == (3,)
    np.testing.assert_allclose(flow.inverse(z).numpy(), x.numpy(), atol=1e-10)
    # Every coupling starts as the identity (zero last layer): what is left is the logit
    # transform and the ActNorms, standardized on this first batch.
    with mg.no_grad():
        last_layers = [abs(p).max().item() for name, p in flow.named_parameters()
                       if name.endswith("out.weight")]
    assert max(last_layers) == 0.0
    assert sum(p.numel() for p in RealNVP(hidden=32).parameters()) == 148_608


def test_bits_per_dim_is_the_dequantized_nll_in_bits():
    """bpd = -(log p(y) - D log 256) / (D log 2), computed here from the flow's log_prob."""
    mg.manual_seed(1)
    flow = RealNVP(hidden=4)
    levels = np.random.default_rng(0).integers(0, 256, (2, 1, 28, 28)).astype(np.uint8)
    mg.manual_seed(5)
    bits = nll_bits(flow, levels).item()
    mg.manual_seed(5)
    u = mg.backend.rng().random(levels.shape)            # the same dequantization noise
    y = mg.tensor(((levels + u) / 256.0).astype(np.float32))
    log_p = flow.log_prob(y).numpy()
    expected = np.mean(-(log_p - DIMS * math.log(256)) / (DIMS * math.log(2)))
    assert bits == pytest.approx(expected, rel=1e-5)
    assert evaluate_bits(flow, levels) == evaluate_bits(flow, levels)  # fixed test noise


def test_to_levels_round_trips_the_stored_digits():
    k = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(to_levels(k / 255.0), k)


def test_the_run_folder(run_folder):
    assert {p.name for p in run_folder.iterdir()} == {CHECKPOINT, METRICS, "samples.png",
                                                       "interpolation.png"}
    metrics = json.loads((run_folder / METRICS).read_text())
    first, last = metrics["epochs"]
    assert 0 < last["test"]["bits_per_dim"] < first["test"]["bits_per_dim"]  # it learns
    assert last["train"]["loss"] < first["train"]["loss"]
    assert metrics["test"] == last["test"]


def test_resume_equals_an_uninterrupted_run(tmp_path, run_folder):
    config = FlowConfig(**{**TINY, "epochs": 1})
    train(config, tmp_path / "a", progress=False, log=quiet)
    config.epochs = 2
    train(config, tmp_path / "a", resume_from=tmp_path / "a", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "a" / CHECKPOINT), load(run_folder / CHECKPOINT)
    for name, value in whole["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], value, err_msg=name)


def test_sampling(run_folder):
    images, labels = sample_run(run_folder, 3, seed=1)
    assert labels is None and images.shape == (3, 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1
    again, _ = sample_run(run_folder, 3, seed=1)
    np.testing.assert_array_equal(images, again)
    with pytest.raises(ConfigError, match="--label needs a conditional model"):
        sample_run(run_folder, 2, label=3)


@pytest.mark.parametrize("changes, message", [
    (dict(alpha=0.5), "--alpha"),
    (dict(picture_samples=101), "--picture-samples"),
    (dict(hidden=0), "--hidden"),
])
def test_bad_settings(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        train(FlowConfig(**{**TINY, **changes}), tmp_path / "r", progress=False, log=quiet)
    assert not (tmp_path / "r").exists()
