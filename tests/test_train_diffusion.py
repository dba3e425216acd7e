"""``minigen train ddpm`` on tiny sizes: the run folder, the average weights, a resumed run
equal to an uninterrupted one, sampling, and bad settings refused before anything runs."""
import json

import numpy as np
import pytest

import minigen as mg
from minigen.cli import main
from minigen.models.unet import UNet
from minigen.runs import CHECKPOINT, METRICS, load_run, sample_run, train
from minigen.serialization import load
from minigen.training.config import ConfigError
from minigen.training.diffusion import DiffusionConfig, update_ema

TINY = dict(width=8, timesteps=20, sample_steps=4, epoch_samples=10, final_samples=0,
            batch_size=16, train_size=32, epochs=2, no_attention=True)


def quiet(line):
    pass


@pytest.fixture(scope="module")
def ddpm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm") / "run"
    train(DiffusionConfig(**TINY), out, progress=False, log=quiet)
    return out


def test_the_run_folder(ddpm_run):
    assert {p.name for p in ddpm_run.iterdir()} == {CHECKPOINT, METRICS, "samples.png"}
    metrics = json.loads((ddpm_run / METRICS).read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    for entry in metrics["epochs"]:
        assert 0 < entry["train"]["loss"] < 3
        assert 0 <= entry["samples"]["conditional_accuracy"] <= 1
    checkpoint = load(ddpm_run / CHECKPOINT)
    assert set(checkpoint) >= {"model", "optimizer", "ema"}
    some = next(iter(checkpoint["model"]))
    assert not np.array_equal(checkpoint["model"][some], checkpoint["ema"][some])


def test_resume_equals_an_uninterrupted_run(tmp_path, ddpm_run):
    config = DiffusionConfig(**{**TINY, "epochs": 1})
    train(config, tmp_path / "a", progress=False, log=quiet)
    config.epochs = 2
    train(config, tmp_path / "a", resume_from=tmp_path / "a", progress=False, log=quiet)
    resumed, whole = load(tmp_path / "a" / CHECKPOINT), load(ddpm_run / CHECKPOINT)
    for key in ("model", "ema"):
        for name, value in whole[key].items():
            np.testing.assert_array_equal(resumed[key][name], value, err_msg=f"{key} {name}")
    strip = lambda e: {k: v for k, v in e.items() if k not in ("seconds", "images_per_second")}  # noqa: E731
    assert ([strip(e) for e in resumed["metrics"]["epochs"]]
            == [strip(e) for e in whole["metrics"]["epochs"]])


def test_sampling(ddpm_run):
    images, labels = sample_run(ddpm_run, 12, seed=3)
    assert images.shape == (12, 1, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    np.testing.assert_array_equal(labels, np.arange(12) % 10)
    again, _ = sample_run(ddpm_run, 12, seed=3)
    np.testing.assert_array_equal(images, again)              # DDIM, eta 0: seeded
    _, sevens = sample_run(ddpm_run, 3, label=7)
    np.testing.assert_array_equal(sevens, [7, 7, 7])
    with pytest.raises(ConfigError, match="--label must be a class from 0 to 9"):
        sample_run(ddpm_run, 3, label=10)
    assert isinstance(load_run(ddpm_run).ema, UNet)


def test_the_moving_average():
    mg.manual_seed(0)
    a, b = UNet((8, 8, 8), attention=False), UNet((8, 8, 8), attention=False)
    before = [p.numpy().copy() for p in a.parameters()]
    update_ema(a, b, 0.9)
    for old, new, target in zip(before, a.parameters(), b.parameters()):
        np.testing.assert_allclose(new.numpy(), 0.9 * old + 0.1 * target.numpy(), rtol=1e-6)


@pytest.mark.parametrize("changes, message", [
    (dict(width=12), "--width must be a multiple of 8"),
    (dict(guidance_dropout=1.0), r"--guidance-dropout must lie in \[0.0, 1.0\), got 1.0"),
    (dict(sample_steps=30), "--sample-steps 30 cannot exceed --timesteps 20"),
    (dict(schedule="sigmoid"), "unknown schedule"),
    (dict(ema_decay=1.5), "--ema-decay"),
    (dict(guidance=-1.0), "--guidance"),
])
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        train(DiffusionConfig(**{**TINY, **changes}), tmp_path / "r", progress=False, log=quiet)
    assert not (tmp_path / "r").exists()


def test_the_command(tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["train", "ddpm", "--out", str(out), "--no-progress", "--epochs", "1",
            "--width", "8", "--timesteps", "10", "--sample-steps", "2", "--epoch-samples", "10",
            "--batch-size", "16", "--train-size", "16", "--no-attention"]
    assert main(argv) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("train loss") and "after 1 epochs" in line
    assert main(["sample", str(out), "--n", "4", "--out", str(tmp_path / "s.npz")]) == 0
    assert np.load(tmp_path / "s.npz")["images"].shape == (4, 1, 28, 28)


def test_the_moving_average_warms_up():
    mg.manual_seed(0)
    a, b = UNet((8, 8, 8), attention=False), UNet((8, 8, 8), attention=False)
    before = [p.numpy().copy() for p in a.parameters()]
    update_ema(a, b, 0.999, step=1)                          # d_1 = 2/11, not 0.999
    d = 2 / 11
    for old, new, target in zip(before, a.parameters(), b.parameters()):
        np.testing.assert_allclose(new.numpy(), d * old + (1 - d) * target.numpy(), rtol=1e-5,
                                   atol=1e-7)


def test_the_sampler_flags(ddpm_run, tmp_path, capsys):
    base = ["sample", str(ddpm_run), "--n", "4", "--seed", "1"]
    assert main(base + ["--out", str(tmp_path / "a.npz")]) == 0
    assert main(base + ["--steps", "20", "--eta", "1", "--guidance", "0",
                        "--out", str(tmp_path / "b.npz")]) == 0
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert a["images"].shape == b["images"].shape == (4, 1, 28, 28)
    assert not np.array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(a["labels"], [0, 1, 2, 3])
    capsys.readouterr()
    for flags, message in [(["--steps", "21"], "--steps 21 cannot exceed the run's 20"),
                           (["--eta", "1.5"], "--eta"), (["--guidance", "-1"], "--guidance")]:
        assert main(base + flags + ["--out", str(tmp_path / "c.npz")]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "c.npz").exists()


def test_the_final_guidance_sweep(tmp_path):
    config = DiffusionConfig(**{**TINY, "epochs": 1, "final_samples": 10})
    summary = train(config, tmp_path / "s", progress=False, log=quiet)
    final = summary["final"]
    assert set(final["accuracy"]) == {"0", "1", "3"}
    assert all(0 <= a <= 1 for a in final["accuracy"].values())
    assert final["accuracy"][f"{final['best_guidance']:g}"] == max(final["accuracy"].values())
    shares = final["unconditional_class_shares"]
    assert len(shares) == 10 and abs(sum(shares) - 1) < 1e-6
    from minigen.runs import final_line
    assert "best w =" in final_line(config, summary, tmp_path / "s")


# The command that wrote the shipped run: the defaults, trained longer (see the README).
SHIPPED_FLAGS = dict(epochs=56, epoch_samples=50)


def test_the_shipped_run_reaches_its_target():
    """The run folder `minigen train ddpm --epochs 56 --epoch-samples 50` wrote: its recorded
    final sweep reaches 90 % class accuracy at its best guidance scale, and a small sample
    drawn here (20 digits, two of each class, 25 DDIM steps at that w) is mostly classified
    as asked; its unconditional samples cover at least eight classes."""
    from minigen import metrics
    from minigen.runs import shipped_run
    from minigen.training.diffusion import sample_digits

    run = shipped_run("ddpm")
    assert run.config.to_dict() == DiffusionConfig(**SHIPPED_FLAGS).to_dict()
    final = run.checkpoint["metrics"]["final"]
    best = final["best_guidance"]
    assert final["accuracy"][f"{best:g}"] >= 0.9
    assert sum(share >= 0.02 for share in final["unconditional_class_shares"]) >= 8
    labels = np.arange(20) % 10
    mg.manual_seed(0)
    images = sample_digits(run.ema, run.schedule, labels, best, 25)
    assert images.shape == (20, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert metrics.conditional_accuracy(images, labels) >= 0.7
