"""``minigen train vqvae`` / ``minigen train pixelcnn`` on tiny sizes: run folders, resume
equals an uninterrupted run, sampling, and every bad argument a ConfigError before writing."""
import argparse
import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from minigen.cli import add_train_command
from minigen.runs import load_run, sample_run
from minigen.runs import train as train_vqvae
from minigen.runs import train as train_pixelcnn
from minigen.training.config import ConfigError
from minigen.training.vqvae import PixelCNNConfig, VQVAEConfig

TRAIN_MODELS = ("vqvae", "pixelcnn")


def load_vqvae(folder):
    run = load_run(folder)
    return run.model, run.config


def load_pixelcnn(folder):
    run = load_run(folder)
    return run.model, run.vqvae
from minigen.serialization import load

TINY = dict(train_size=64, test_size=32, batch_size=32)
TINY_PRIOR = dict(train_size=64, test_size=32, batch_size=32, channels=8, blocks=1)


def quiet(_):
    pass


@pytest.fixture(scope="module")
def vqvae_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "vqvae"
    train_vqvae(VQVAEConfig(epochs=2, restart_dead=1, **TINY), folder, progress=False, log=quiet)
    return folder


def _parser():
    parser = argparse.ArgumentParser(prog="minigen")
    commands = parser.add_subparsers(dest="model")
    for name in TRAIN_MODELS:
        add_train_command(commands, name)
    return parser


def _cli(*argv):
    args = _parser().parse_args(list(argv))
    return args.run(args)


def test_a_vqvae_run_folder(vqvae_run):
    assert {p.name for p in vqvae_run.iterdir()} == {
        "checkpoint.npz", "metrics.json", "reconstructions.png", "random_codes.png"}
    metrics = json.loads((vqvae_run / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    last = metrics["epochs"][-1]
    for key in ("loss", "reconstruction", "codebook", "commitment", "mse", "codes_used",
                "perplexity"):
        assert key in last["test"]
    assert {"codes_used", "perplexity"} <= set(last["train"])
    assert metrics["test"] == last["test"] and 0 < metrics["test"]["mse"] < 1
    assert 1 <= metrics["test"]["codes_used"] <= 128
    model, config = load_vqvae(vqvae_run)
    assert config.epochs == 2 and model.num_codes == 128
    assert float(model.data_variance.item()) > 0.05       # var(x) of the training digits


def test_resume_equals_an_uninterrupted_run(tmp_path, vqvae_run):
    config = VQVAEConfig(epochs=1, restart_dead=1, **TINY)
    train_vqvae(config, tmp_path / "a", progress=False, log=quiet)
    config.epochs = 2
    train_vqvae(config, tmp_path / "a", resume_from=tmp_path / "a", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "a" / "checkpoint.npz"), load(vqvae_run / "checkpoint.npz")
    for name, value in whole["model"].items():
        assert_array_equal(resumed["model"][name], value, err_msg=name)
    strip = [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
             for e in whole["metrics"]["epochs"]]
    assert [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
            for e in resumed["metrics"]["epochs"]] == strip


def test_pixelcnn_run_resume_and_samples(tmp_path, vqvae_run):
    config = PixelCNNConfig(vqvae=str(vqvae_run), epochs=1, **TINY_PRIOR)
    train_pixelcnn(config, tmp_path / "p", progress=False, log=quiet)
    config.epochs = 2
    train_pixelcnn(config, tmp_path / "p", resume_from=tmp_path / "p", progress=False, log=quiet)
    train_pixelcnn(config, tmp_path / "q", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "p" / "checkpoint.npz"), load(tmp_path / "q" / "checkpoint.npz")
    for name, value in whole["model"].items():
        assert_array_equal(resumed["model"][name], value, err_msg=name)
    assert [e["test"] for e in resumed["metrics"]["epochs"]] == [e["test"] for e in whole["metrics"]["epochs"]]

    metrics = json.loads((tmp_path / "q" / "metrics.json").read_text())
    assert 0 < metrics["test"]["loss"] < np.log(128) + 1
    assert 0.1 <= metrics["epochs"][-1]["sample_confidence"] <= 1
    assert 0.1 <= metrics["random_codes_confidence"] <= 1
    assert (tmp_path / "q" / "samples.png").is_file()

    images, labels = sample_run(tmp_path / "q", 5, None, seed=3)
    assert images.shape == (5, 1, 28, 28) and images.dtype == np.float32 and labels is None
    assert 0 <= images.min() and images.max() <= 1
    assert_array_equal(sample_run(tmp_path / "q", 5, None, seed=3)[0], images)   # seeded
    prior, vqvae = load_pixelcnn(tmp_path / "q")
    assert prior.num_codes == vqvae.num_codes == 128


def test_sampling_errors(tmp_path, vqvae_run):
    with pytest.raises(ConfigError, match="a VQ-VAE alone cannot sample.*minigen train pixelcnn"):
        sample_run(vqvae_run, 4, None, 0)
    train_pixelcnn(PixelCNNConfig(vqvae=str(vqvae_run), epochs=1, **TINY_PRIOR), tmp_path / "p",
                   progress=False, log=quiet)
    with pytest.raises(ConfigError, match="unconditional"):
        sample_run(tmp_path / "p", 4, 3, 0)
    with pytest.raises(ConfigError, match="--n must be a positive integer"):
        sample_run(tmp_path / "p", 0, None, 0)
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        sample_run(tmp_path, 4, None, 0)


@pytest.mark.parametrize("config, message", [
    (VQVAEConfig(epochs=0), "--epochs must be a positive integer"),
    (VQVAEConfig(lr=-1.0), "--lr must be a positive number"),
    (VQVAEConfig(dataset="cifar"), "unknown dataset"),
    (VQVAEConfig(restart_dead=-1), "--restart-dead must be an integer >= 0"),
    (VQVAEConfig(beta=-0.5), "--beta must be a number >= 0"),
    (VQVAEConfig(num_codes=0), "--num-codes must be a positive integer"),
    (VQVAEConfig(train_size=10**6), "--train-size 1000000 is larger than the 4000 images"),
])
def test_bad_vqvae_configs(tmp_path, config, message):
    with pytest.raises(ConfigError, match=message):
        train_vqvae(config, tmp_path / "out", progress=False, log=quiet)
    assert not (tmp_path / "out").exists()


def test_bad_folders_and_resumes(tmp_path, vqvae_run):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        train_vqvae(VQVAEConfig(**TINY), tmp_path / "file", progress=False, log=quiet)
    with pytest.raises(ConfigError, match="already holds a run"):
        train_vqvae(VQVAEConfig(**TINY), vqvae_run, progress=False, log=quiet)
    with pytest.raises(ConfigError, match="keeps its config.*--num-codes"):
        train_vqvae(VQVAEConfig(epochs=3, num_codes=64, restart_dead=1, **TINY), tmp_path / "r",
                    resume_from=vqvae_run, progress=False, log=quiet)
    with pytest.raises(ConfigError, match="already trained 2 epochs"):
        train_vqvae(VQVAEConfig(epochs=2, restart_dead=1, **TINY), tmp_path / "r",
                    resume_from=vqvae_run, progress=False, log=quiet)
    with pytest.raises(ConfigError, match="--vqvae DIR is required"):
        train_pixelcnn(PixelCNNConfig(), tmp_path / "p", progress=False, log=quiet)
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        train_pixelcnn(PixelCNNConfig(vqvae=str(tmp_path)), tmp_path / "p", progress=False,
                       log=quiet)
    with pytest.raises(ConfigError, match="not of 'pixelcnn'"):
        train_pixelcnn(PixelCNNConfig(vqvae=str(vqvae_run), epochs=3), tmp_path / "p",
                       resume_from=vqvae_run, progress=False, log=quiet)
    with pytest.raises(ConfigError, match="--blocks must be an integer >= 0"):
        train_pixelcnn(PixelCNNConfig(vqvae=str(vqvae_run), blocks=-1), tmp_path / "p",
                       progress=False, log=quiet)
    assert not (tmp_path / "r").exists() and not (tmp_path / "p").exists()


def test_the_commands(tmp_path, vqvae_run, capsys):
    hidden = ["--train-size", "64", "--test-size", "32", "--batch-size", "32", "--no-progress"]
    out = tmp_path / "v"
    assert _cli("vqvae", "--epochs", "1", "--out", str(out), "--restart-dead", "1", *hidden) == 0
    assert "codes used" in capsys.readouterr().out
    assert _cli("vqvae", "--resume", str(out), "--epochs", "2", "--no-progress") == 0
    assert load(out / "checkpoint.npz")["epoch"] == 2
    assert_array_equal(load(out / "checkpoint.npz")["model"]["quantizer.codebook"],
                       load(vqvae_run / "checkpoint.npz")["model"]["quantizer.codebook"])
    assert _cli("pixelcnn", "--vqvae", str(out), "--epochs", "1", "--channels", "8",
                "--blocks", "1", "--out", str(tmp_path / "p"), *hidden) == 0
    assert "random codes" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="keeps its config"):
        _cli("vqvae", "--resume", str(out), "--epochs", "3", "--ema")
    with pytest.raises(ConfigError, match="--vqvae DIR is required"):
        _cli("pixelcnn", "--out", str(tmp_path / "x"))
    assert "--train-size" not in _parser().format_help()
