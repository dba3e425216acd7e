"""``minigen train cyclegan``: the run folder end to end on tiny sizes, resume equals an
uninterrupted run, every bad argument a ConfigError before anything is written, and
``sample_run``."""
import argparse
import json

import numpy as np
import pytest

from minigen.cli import add_train_command
from minigen.runs import CHECKPOINT, METRICS, sample_run, train
from minigen.runs.cyclegan import CycleGANRun
from minigen.training.config import ConfigError
from minigen.training.cyclegan import CycleGANConfig

TRAIN_MODELS = ("cyclegan",)
TRANSLATIONS = "translations.png"
read_run = CycleGANRun.read
from minigen.serialization import load

TINY_DOMAINS = "thin-thick"
TINY = dict(ngf=4, n_blocks=1, ndf=4, n_layers=2, batch_size=8, train_size=16, test_size=20,
            epochs=2, decay_epochs=1)


def parser():
    p = argparse.ArgumentParser(prog="minigen train")
    commands = p.add_subparsers(dest="model", required=True)
    for name in TRAIN_MODELS:
        add_train_command(commands, name)
    return p


def run(argv):
    args = parser().parse_args(argv)
    return args.run(args)


def tiny_argv(out, **changes):
    values = {**TINY, **changes}
    argv = ["cyclegan", "--out", str(out), "--no-progress"]
    for name, value in values.items():
        argv += ["--" + name.replace("_", "-"), str(value)]
    return argv


def test_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(tiny_argv(out)) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("label preservation thin->thick") and "after 2 epochs" in line
    assert {p.name for p in out.iterdir()} == {CHECKPOINT, METRICS, TRANSLATIONS}
    summary = json.loads((out / METRICS).read_text())
    assert summary["config"]["lambda_id"] == 5.0 and summary["config"]["domains"] == "thin-thick"
    assert [e["epoch"] for e in summary["epochs"]] == [1, 2]
    test = summary["test"]
    assert set(test) == {"label_x_to_y", "label_y_to_x", "cycle_mae_x", "cycle_mae_y",
                         "translation_mae"}
    assert all(0 <= v <= 1 for v in test.values())
    assert summary["reference"]["untranslated_mae"] == pytest.approx(0.1, abs=0.03)
    assert summary["epochs"][0]["lr"] == pytest.approx(2e-4)          # constant, then decaying
    assert summary["epochs"][1]["lr"] == pytest.approx(1e-4)
    assert set(summary["epochs"][0]["train"]) == {"g_total", "gan_g", "gan_f", "cycle",
                                                  "identity", "d_x", "d_y"}
    checkpoint = read_run(out)
    assert checkpoint["epoch"] == 2
    # The pools (size 50) keep every fake until full, across epochs: 2 epochs x 2 steps x 8.
    assert checkpoint["pools"]["x"].shape == checkpoint["pools"]["y"].shape == (32, 1, 28, 28)


@pytest.mark.parametrize("domains", ["handwritten-typeset", "digits-negatives"])
def test_other_domains(tmp_path, domains):
    summary = train(CycleGANConfig(domains=domains, **{**TINY, "epochs": 1, "decay_epochs": 0}),
                    tmp_path / "run", progress=False, log=lambda _: None)
    assert ("translation_mae" in summary["test"]) == (domains == "digits-negatives")
    assert summary["config"]["lambda_id"] == (0.0 if domains == "digits-negatives" else 5.0)
    identity = summary["epochs"][0]["train"]["identity"]
    assert identity == 0.0 if domains == "digits-negatives" else identity > 0


def _without_timing(history):
    return [{k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}
            for e in history]


def stop_after_epoch(k):
    def log(line):
        if line.startswith(f"epoch {k:3d}/"):
            raise KeyboardInterrupt                    # Ctrl-C once epoch k is written
    return log


def test_resume_gives_the_numbers_of_an_uninterrupted_run(tmp_path):
    config = dict(TINY, epochs=3, decay_epochs=1, pool_size=6)
    whole = train(CycleGANConfig(**config), tmp_path / "whole", progress=False, log=lambda _: None)
    with pytest.raises(KeyboardInterrupt):
        train(CycleGANConfig(**config), tmp_path / "part", progress=False, log=stop_after_epoch(2))
    assert load(tmp_path / "part" / CHECKPOINT)["epoch"] == 2
    resumed = train(CycleGANConfig(**config), tmp_path / "part", resume_from=tmp_path / "part",
                    progress=False, log=lambda _: None)
    assert _without_timing(resumed["epochs"]) == _without_timing(whole["epochs"])
    a, b = load(tmp_path / "whole" / CHECKPOINT), load(tmp_path / "part" / CHECKPOINT)
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key], b["model"][key])
    np.testing.assert_array_equal(a["pools"]["x"], b["pools"]["x"])
    assert a["opt_g"]["hyperparameters"] == b["opt_g"]["hyperparameters"]


def test_resume_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(tiny_argv(out, epochs=2, decay_epochs=1)) == 0
    summary = json.loads((out / METRICS).read_text())
    # --epochs 2 --decay-epochs 1: epoch 1 at the full lr, epoch 2 at half of it
    assert [e["lr"] for e in summary["epochs"]] == pytest.approx([2e-4, 1e-4])
    assert run(["cyclegan", "--resume", str(out), "--epochs", "4", "--no-progress"]) == 0
    assert "after 4 epochs" in capsys.readouterr().out.splitlines()[-1]
    summary = json.loads((out / METRICS).read_text())
    # now --epochs 4: the rule of the longer run, constant for 3 epochs, then decaying
    assert [e["lr"] for e in summary["epochs"]] == pytest.approx([2e-4, 1e-4, 2e-4, 1e-4])
    with pytest.raises(ConfigError, match="already trained 4 epochs"):
        run(["cyclegan", "--resume", str(out), "--epochs", "2"])
    with pytest.raises(ConfigError, match=r"--ngf 8 \(the run has 4\)"):
        run(["cyclegan", "--resume", str(out), "--epochs", "5", "--ngf", "8"])


@pytest.mark.parametrize("changes, message", [
    ({"domains": "zebras"}, "unknown domains 'zebras'"),
    ({"epochs": 0}, "--epochs must be a positive integer"),
    ({"decay_epochs": 2}, "--decay-epochs 2 must be smaller than --epochs 2"),
    ({"n_layers": 3}, "--n-layers 3"),
    ({"lambda_cyc": 0.0}, "--lambda-cyc must be a positive number"),
    ({"lambda_id": -1.0}, "--lambda-id must be a number >= 0"),
    ({"lr": -1.0}, "--lr must be a positive number"),
    ({"pool_size": -1}, "--pool-size must be an integer >= 0"),
    ({"train_size": 2001}, "--train-size 2001 is larger than the 2000"),
    ({"batch_size": 1.5}, "--batch-size must be a positive integer"),
])
def test_bad_config_is_refused_before_anything_is_written(tmp_path, changes, message):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=message):
        train(CycleGANConfig(**{**TINY, **changes}), out, progress=False)
    assert not out.exists()


def test_bad_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        train(CycleGANConfig(**TINY), tmp_path / "file", progress=False)
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        train(CycleGANConfig(**TINY), tmp_path / "new", resume_from=tmp_path, progress=False)
    assert not (tmp_path / "new").exists()


def test_sample_run(tmp_path):
    out = tmp_path / "run"
    train(CycleGANConfig(**{**TINY, "epochs": 1, "decay_epochs": 0}), out, progress=False,
          log=lambda _: None)
    images, labels = sample_run(out, 7, None, seed=3)
    assert labels is None
    assert images.shape == (7, 1, 28, 28) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    np.testing.assert_array_equal(images, sample_run(out, 7, None, seed=3)[0])
    assert not np.array_equal(images, sample_run(out, 7, None, seed=4)[0])
    with pytest.raises(ConfigError, match="takes no label"):
        sample_run(out, 7, 3, seed=0)
    with pytest.raises(ConfigError, match="--n must be a positive integer"):
        sample_run(out, 0, None, seed=0)
    with pytest.raises(ConfigError, match="holds no checkpoint"):
        sample_run(tmp_path, 2, None, seed=0)
    # minigen sample writes the sources and their digit labels beside the translations
    from minigen.cli import main
    from minigen.data.unpaired import load_unpaired
    assert main(["sample", str(out), "--n", "6", "--out", str(tmp_path / "t.npz")]) == 0
    written = np.load(tmp_path / "t.npz")
    assert set(written) == {"images", "inputs", "labels"}
    assert written["images"].shape == written["inputs"].shape == (6, 1, 28, 28)
    data = load_unpaired(TINY_DOMAINS, seed=0, train_size=TINY["train_size"],
                         test_size=TINY["test_size"])
    for source, label in zip(written["inputs"], written["labels"]):   # each source's own label
        row = int(np.flatnonzero((data.x_test == source).all(axis=(1, 2, 3)))[0])
        assert label == data.x_test_labels[row]


def test_unknown_model_name():
    with pytest.raises(ConfigError, match="unknown model"):
        add_train_command(argparse.ArgumentParser().add_subparsers(), "pix2pix")


def test_interrupt_says_how_to_resume(tmp_path, monkeypatch, capsys):
    import minigen.runs as module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(module, "train", interrupted)
    assert run(tiny_argv(tmp_path / "run")) == 130
    assert f"minigen train cyclegan --resume {tmp_path / 'run'}" in capsys.readouterr().err
