"""``minigen train pixelcnn-digits`` on tiny sizes: the run folder, the exact test NLL, a
resumed run equal to an uninterrupted one, sampling, and bad settings refused."""
import json

import numpy as np
import pytest

from minigen.runs import CHECKPOINT, METRICS, sample_run, train
from minigen.serialization import load
from minigen.training.autoregressive import AutoregressiveConfig, binarize
from minigen.training.config import ConfigError

TINY = dict(channels=4, layers=1, kernel_size=3, batch_size=16, train_size=32, test_size=20,
            epochs=2, picture_samples=2, lr=0.01)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("pxd") / "run"
    train(AutoregressiveConfig(**TINY), out, progress=False, log=quiet)
    return out


def test_the_run_folder(run_folder):
    assert {p.name for p in run_folder.iterdir()} == {CHECKPOINT, METRICS, "samples.png"}
    metrics = json.loads((run_folder / METRICS).read_text())
    first, last = metrics["epochs"]
    assert 0 < last["test"]["nll"] < first["test"]["nll"]      # it learns
    assert last["train"]["loss"] < first["train"]["loss"]
    assert metrics["test"] == last["test"]


def test_resume_equals_an_uninterrupted_run(tmp_path, run_folder):
    config = AutoregressiveConfig(**{**TINY, "epochs": 1})
    train(config, tmp_path / "a", progress=False, log=quiet)
    config.epochs = 2
    train(config, tmp_path / "a", resume_from=tmp_path / "a", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "a" / CHECKPOINT), load(run_folder / CHECKPOINT)
    for name, value in whole["model"].items():
        np.testing.assert_array_equal(resumed["model"][name], value, err_msg=name)


def test_sampling(run_folder):
    images, labels = sample_run(run_folder, 3, seed=1)
    assert labels is None and images.shape == (3, 1, 28, 28)
    assert set(np.unique(images)) <= {0.0, 1.0}
    with pytest.raises(ConfigError, match="--label needs a conditional model"):
        sample_run(run_folder, 2, label=3)


def test_binarize():
    np.testing.assert_array_equal(binarize(np.array([0.0, 0.5, 0.51, 1.0])), [0, 0, 1, 1])


@pytest.mark.parametrize("changes, message", [
    (dict(kernel_size=4), "--kernel-size must be odd"),
    (dict(picture_samples=101), "--picture-samples"),
    (dict(layers=0), "--layers"),
])
def test_bad_settings(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        train(AutoregressiveConfig(**{**TINY, **changes}), tmp_path / "r", progress=False,
              log=quiet)
    assert not (tmp_path / "r").exists()


def test_the_shipped_run_reaches_its_target():
    """The run folder `minigen train pixelcnn-digits --out minigen/runs/shipped/pixelcnn-digits`
    wrote (the default command): its recorded test NLL at most 80 nats, and recomputed here
    on the first 100 binarized test digits; a few pixel-by-pixel samples are binary."""
    from minigen.data import load_digits
    from minigen.runs import shipped_run
    from minigen.training.autoregressive import binarize, evaluate_nll

    run = shipped_run("pixelcnn-digits")
    assert run.config.to_dict() == AutoregressiveConfig().to_dict()     # the defaults
    recorded = run.checkpoint["metrics"]["epochs"][-1]["test"]["nll"]
    assert recorded <= 80
    x = binarize(load_digits("test")[0][:100])
    assert 60 < evaluate_nll(run.model, x) < 90
    with pytest.raises(ConfigError, match="no shipped run of 'vae'"):
        shipped_run("vae")
