"""``minigen train ebm`` on tiny sizes: the run folder and its sample verdicts, the replay
buffer kept in the checkpoint, a resumed run equal to an uninterrupted one, sampling, the
energy network's shapes, and bad settings refused."""
import json

import numpy as np
import pytest

import minigen as mg
from minigen.models import EnergyNet
from minigen.runs import CHECKPOINT, METRICS, sample_run, train
from minigen.serialization import load
from minigen.training.config import ConfigError
from minigen.training.ebm import EBMConfig, judge, uniform_noise_confidence

TINY = dict(channels=4, batch_size=16, train_size=48, epochs=2, langevin_steps=3,
            buffer_size=40, picture_samples=4, judge_samples=30, lr=1e-3)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("ebm") / "run"
    train(EBMConfig(**TINY), out, progress=False, log=quiet)
    return out


def test_the_run_folder(run_folder):
    assert {p.name for p in run_folder.iterdir()} == {CHECKPOINT, METRICS, "samples.png"}
    metrics = json.loads((run_folder / METRICS).read_text())
    noise = metrics["uniform_noise_confidence"]
    assert noise == pytest.approx(uniform_noise_confidence(30))
    for entry in metrics["epochs"]:
        samples = entry["samples"]
        assert samples["margin"] == pytest.approx(samples["confidence"] - noise)
        assert sum(samples["shares"]) == pytest.approx(1.0)
        assert samples["classes_present"] == sum(s >= 0.02 for s in samples["shares"])
        assert set(entry["train"]) == {"loss", "cd", "regularizer", "energy_data",
                                       "energy_sample"}
    buffer = load(run_folder / CHECKPOINT)["buffer"]
    assert buffer["states"].shape == (40, 1, 28, 28)          # 2 epochs x 3 steps x 16 > 40
    assert buffer["states"].min() >= -1 and buffer["states"].max() <= 1


def test_judge_counts_the_classes_of_real_digits():
    images, labels = mg.data.load_digits("test")
    verdict = judge(images[:200])
    shares = np.bincount(labels[:200], minlength=10) / 200
    assert np.abs(np.array(verdict["shares"]) - shares).sum() < 0.1     # ~98 % accurate
    assert verdict["confidence"] > uniform_noise_confidence(200) + 0.2


def test_resume_equals_an_uninterrupted_run(tmp_path, run_folder):
    config = EBMConfig(**{**TINY, "epochs": 1})
    train(config, tmp_path / "a", progress=False, log=quiet)
    config.epochs = 2
    train(config, tmp_path / "a", resume_from=tmp_path / "a", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "a" / CHECKPOINT), load(run_folder / CHECKPOINT)
    for name, value in whole["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], value, err_msg=name)
    np.testing.assert_array_equal(resumed["buffer"]["states"], whole["buffer"]["states"])


def test_sampling(run_folder):
    images, labels = sample_run(run_folder, 3, seed=1)
    assert labels is None and images.shape == (3, 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1
    again, _ = sample_run(run_folder, 3, seed=1)
    np.testing.assert_array_equal(images, again)
    with pytest.raises(ConfigError, match="--label needs a conditional model"):
        sample_run(run_folder, 2, label=3)


def test_the_energy_network():
    mg.manual_seed(0)
    net = EnergyNet(channels=16)
    assert sum(p.numel() for p in net.parameters()) == 76_993
    assert net(mg.zeros(2, 1, 28, 28)).shape == (2,)
    with pytest.raises(ValueError, match=r"EnergyNet: expected images \(N, 1, 28, 28\)"):
        net(mg.zeros(2, 28, 28))


@pytest.mark.parametrize("changes, message", [
    (dict(step_size=0.0), "--step-size"),
    (dict(grad_clip=-1.0), "--grad-clip"),
    (dict(langevin_steps=0), "--langevin-steps"),
    (dict(picture_samples=101), "--picture-samples"),
])
def test_bad_settings(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        train(EBMConfig(**{**TINY, **changes}), tmp_path / "r", progress=False, log=quiet)
    assert not (tmp_path / "r").exists()
