"""GAN training: the alternating steps move only the intended player, the fake batch is
detached for D, D(x) and D(G(z)) move as the game says, and ``minigen train
{gan,dcgan,cgan,wgan-gp}`` runs end to end, resumes exactly, and refuses bad arguments."""
import argparse
import json

import pytest

import minigen
from minigen import backend
from minigen.data import load_digits
from minigen.cli import add_train_command
from minigen.models.gans import to_signed
from minigen.runs import CHECKPOINT, METRICS, load_run, sample_run, train
from minigen.training.config import ConfigError
from minigen.training.gans import DEFAULTS, LOG_KEYS, GANConfig, GANTraining, fixed_noise_grid
from minigen.training.gans import MODELS as TRAIN_MODELS

np = backend.np
TINY = dict(batch_size=8, latent_dim=8, width=4, epoch_samples=20, final_samples=30,
            train_size=48, test_size=40)
TINY_FLAGS = ["--batch-size", "8", "--latent-dim", "8", "--width", "4", "--epoch-samples", "20",
              "--final-samples", "30", "--train-size", "48", "--test-size", "40",
              "--no-progress"]


def params(module):
    return [p.numpy().copy() for p in module.parameters()]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.fixture
def real():
    return minigen.tensor(to_signed(load_digits("train")[0][:16]))     # (16, 1, 28, 28)


def game_for(model, **kw):
    minigen.manual_seed(0)
    return GANTraining(GANConfig(model, latent_dim=8, width=4, **kw))


# ---------------------------------------------------------------- the steps of the game
@pytest.mark.parametrize("model", TRAIN_MODELS)
def test_discriminator_step_moves_only_the_discriminator(model, real):
    game = game_for(model)
    labels = np.arange(16) % 10 if model == "cgan" else None
    fake, fake_labels = game.fake_batch(16)
    g_before, d_before = params(game.generator), params(game.discriminator)
    logs = game.discriminator_step(real, labels, fake.detach(), fake_labels)
    assert same(params(game.generator), g_before)
    assert all(p.grad is None for p in game.generator.parameters())   # D's loss never reached G
    assert not same(params(game.discriminator), d_before)
    assert set(logs) == {"loss_d", "d_real", "d_fake"}


@pytest.mark.parametrize("model", TRAIN_MODELS)
def test_generator_step_moves_only_the_generator(model):
    game = game_for(model)
    fake, fake_labels = game.fake_batch(16)
    g_before, d_before = params(game.generator), params(game.discriminator)
    game.generator_step(fake, fake_labels)
    assert same(params(game.discriminator), d_before)
    assert all(p.grad is None for p in game.discriminator.parameters())   # D was frozen
    assert all(p.requires_grad for p in game.discriminator.parameters())  # ... and thawed
    assert not same(params(game.generator), g_before)


def test_the_discriminator_refuses_a_fake_batch_that_is_not_detached(real):
    game = game_for("dcgan")
    fake, _ = game.fake_batch(16)
    d_before = params(game.discriminator)
    with pytest.raises(ValueError, match="discriminator_step: the fake batch must be detached"):
        game.discriminator_step(real, None, fake, None)
    assert same(params(game.discriminator), d_before)


@pytest.mark.parametrize("model, k", [("dcgan", 1), ("wgan-gp", 5), ("dcgan", 3)])
def test_a_round_is_k_discriminator_steps_then_one_generator_step(model, k, real, monkeypatch):
    game = game_for(model)
    calls = []
    for name in ("discriminator_step", "generator_step"):
        method = getattr(game, name)
        monkeypatch.setattr(game, name, lambda *a, _m=method, _n=name: calls.append(_n) or _m(*a))
    logs = game.round([(real, None)] * k)
    assert calls == ["discriminator_step"] * k + ["generator_step"]
    assert set(logs) == set(LOG_KEYS) and all(np.isfinite(v) for v in logs.values())


def test_the_wgan_critic_loss_includes_the_gradient_penalty(real):
    game = game_for("wgan-gp")
    fake = game.fake_batch(16)[0].detach()
    scores_real, scores_fake = game.judge(real, None), game.judge(fake, None)
    minigen.manual_seed(5)
    with_gp = game.d_loss(scores_real, scores_fake, real, fake).item()
    without = (scores_fake.mean() - scores_real.mean()).item()
    assert with_gp > without            # λ E[(||∇f|| - 1)²] > 0 at initialization


def test_d_and_g_move_as_the_game_says(real):
    """D's steps alone push D(x) up and D(G(z)) down; then G's steps alone push D(G(z)) up."""
    game = game_for("dcgan", lr=1e-3)
    minigen.manual_seed(1)
    z = game.generator.noise(16)
    fake = game.generator(z).detach()
    first = game.discriminator_step(real, None, fake, None)
    for _ in range(15):
        logs = game.discriminator_step(real, None, fake, None)
    assert logs["d_real"] > first["d_real"] + 0.1 and logs["d_fake"] < first["d_fake"] - 0.1
    assert logs["loss_d"] < first["loss_d"]

    def d_of_fakes():
        with minigen.no_grad():
            return minigen.sigmoid(game.discriminator(game.generator(z))).mean().item()
    before = d_of_fakes()
    for _ in range(15):
        game.generator_step(game.generator(z), None)
    assert d_of_fakes() > before + 0.1


def test_a_short_run_learns_the_game():
    """Over the first rounds on real digits D learns to tell real from fake: D(x) > D(G(z))."""
    minigen.manual_seed(0)
    game = GANTraining(GANConfig("dcgan", latent_dim=16, width=8))
    images = to_signed(load_digits("train")[0][:320])
    logs = [game.round([(minigen.tensor(images[i:i + 32]), None)]) for i in range(0, 320, 32)]
    late = logs[-5:]
    assert np.mean([g["d_real"] for g in late]) > np.mean([g["d_fake"] for g in late]) + 0.1
    assert np.mean([g["loss_d"] for g in logs[-5:]]) < 2 * np.log(2)    # D beats chance


# ---------------------------------------------------------------- the config
def test_defaults_follow_the_papers():
    dcgan, wgan = GANConfig("dcgan"), GANConfig("wgan-gp")
    assert (dcgan.lr, dcgan.beta1, dcgan.beta2, dcgan.d_steps) == (2e-4, 0.5, 0.999, 1)
    assert (wgan.lr, wgan.beta1, wgan.beta2, wgan.d_steps, wgan.gp_weight) == (1e-4, 0.0, 0.9,
                                                                              5, 10.0)
    assert wgan.loss == "wasserstein" and dcgan.loss == "bce" and dcgan.gp_weight is None
    assert set(DEFAULTS) == set(TRAIN_MODELS)
    for model in TRAIN_MODELS:
        GANConfig(model).check()
        assert GANConfig.from_dict(GANConfig(model).to_dict()) == GANConfig(model)


# ---------------------------------------------------------------- the command line
def parser():
    p = argparse.ArgumentParser(prog="minigen train")
    commands = p.add_subparsers(dest="model", required=True)
    for name in TRAIN_MODELS:
        add_train_command(commands, name)
    return p


def command(*argv):
    args = parser().parse_args([str(a) for a in argv])
    return args.run(args)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One two-epoch tiny run per model, through the command line."""
    root = tmp_path_factory.mktemp("gan_runs")
    for name in TRAIN_MODELS:
        assert command(name, "--epochs", 2, "--out", root / name, *TINY_FLAGS) == 0
    return root


@pytest.mark.parametrize("name", TRAIN_MODELS)
def test_train_writes_every_promised_file(runs, name):
    folder = runs / name
    assert {p.name for p in folder.iterdir()} == {CHECKPOINT, METRICS, "samples.png",
                                                  "samples_001.png", "samples_002.png"}
    summary = json.loads((folder / METRICS).read_text())
    assert summary["model"] == name and summary["config"]["model"] == name
    assert [e["epoch"] for e in summary["epochs"]] == [1, 2]
    rounds = 48 // 8 // GANConfig(name).d_steps
    for key in LOG_KEYS:
        assert len(summary["steps"][key]) == 2 * rounds
    for part in (summary["final"], summary["untrained"], summary["reference"],
                 summary["epochs"][-1]["samples"]):
        assert sum(part["class_histogram"]) in (20, 30, 40)
        assert 0 <= part["kl_to_uniform"] <= np.log(10) + 1e-9 and part["fdd"] >= 0
        assert ("conditional_accuracy" in part) == (name == "cgan" and part is not
                                                    summary["reference"])
    assert summary["final"]["samples"] == 30
    # the real digits are their own best reference: far closer than an untrained generator
    assert summary["reference"]["fdd"] < summary["untrained"]["fdd"] / 3
    assert summary["reference"]["inception_score"] > 3 * summary["untrained"]["inception_score"]


def test_train_prints_the_final_metrics(tmp_path, capsys):
    assert command("dcgan", "--epochs", 1, "--out", tmp_path / "r", *TINY_FLAGS,
                   "--epoch-samples", "0") == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("FDD ") and "IS" in line and "after 1 epochs" in line


def test_the_fixed_noise_batch_is_fixed_and_cgan_rows_are_classes(runs):
    game = load_run(runs / "cgan").game
    a, labels = fixed_noise_grid(game.generator, 0)
    b, _ = fixed_noise_grid(game.generator, 0)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 10))
    assert a.shape == (100, 1, 28, 28)
    g = load_run(runs / "dcgan").game
    assert fixed_noise_grid(g.generator, 0)[1] is None


@pytest.mark.parametrize("name", ["dcgan", "wgan-gp"])
def test_resume_equals_an_uninterrupted_run(runs, tmp_path, name):
    assert command(name, "--epochs", 1, "--out", tmp_path / "r", *TINY_FLAGS) == 0
    assert command(name, "--resume", tmp_path / "r", "--epochs", 2, "--no-progress") == 0
    resumed = json.loads((tmp_path / "r" / METRICS).read_text())
    straight = json.loads((runs / name / METRICS).read_text())
    for summary in (resumed, straight):
        for epoch in summary["epochs"]:
            del epoch["seconds"], epoch["images_per_second"]
    assert resumed == straight
    a, b = load_run(tmp_path / "r").game, load_run(runs / name).game
    for key, value in a.generator.state_dict().items():
        np.testing.assert_array_equal(value, b.generator.state_dict()[key])


def test_resume_into_another_folder_keeps_the_source(runs, tmp_path):
    before = (runs / "gan" / CHECKPOINT).read_bytes()
    assert command("gan", "--resume", runs / "gan", "--epochs", 3, "--out", tmp_path / "more",
                   "--no-progress") == 0
    assert (runs / "gan" / CHECKPOINT).read_bytes() == before
    assert len(json.loads((tmp_path / "more" / METRICS).read_text())["epochs"]) == 3


@pytest.mark.parametrize("name", TRAIN_MODELS)
def test_sample_run(runs, name):
    images, labels = sample_run(runs / name, 12, seed=3)
    assert images.shape == (12, 1, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0 and images.max() <= 1
    again, _ = sample_run(runs / name, 12, seed=3)
    np.testing.assert_array_equal(images, again)
    if name == "cgan":
        np.testing.assert_array_equal(labels, np.arange(12) % 10)
        _, sevens = sample_run(runs / name, 4, label=7)
        np.testing.assert_array_equal(sevens, [7, 7, 7, 7])
    else:
        assert labels is None


@pytest.mark.parametrize("name, label, match", [
    ("dcgan", 3, "--label needs a conditional model"),
    ("cgan", 10, "--label must be a class from 0 to 9"),
    ("cgan", -1, "--label must be a class from 0 to 9"),
])
def test_sample_run_refuses_bad_labels(runs, name, label, match):
    with pytest.raises(ConfigError, match=match):
        sample_run(runs / name, 4, label=label)


@pytest.mark.parametrize("argv, match", [
    (["dcgan", "--epochs", "0"], "--epochs must be a positive integer"),
    (["dcgan", "--batch-size", "1"], "--batch-size must be at least 2"),
    (["cgan", "--latent-dim", "-3"], "--latent-dim must be a positive integer"),
    (["gan", "--width", "0"], "--width must be a positive integer"),
    (["dcgan", "--lr", "-1"], "--lr must be a positive number"),
    (["dcgan", "--beta1", "1.0"], r"--beta1 must be a number in \[0, 1\)"),
    (["wgan-gp", "--gp-weight", "0"], "--gp-weight must be a positive number"),
    (["wgan-gp", "--d-steps", "0"], "--d-steps must be a positive integer"),
    (["dcgan", "--seed", "-1"], "--seed must be an integer >= 0"),
    (["dcgan", "--epoch-samples", "-1"], "--epoch-samples must be an integer >= 0"),
    (["dcgan", "--final-samples", "0"], "--final-samples must be a positive integer"),
    (["dcgan", "--train-size", "5000"], "--train-size 5000 is larger than the 4000 images"),
    (["dcgan", "--train-size", "20", "--batch-size", "8", "--d-steps", "3"],
     "one round needs 3 batches of 8 images"),
])
def test_bad_arguments_are_config_errors_before_anything_is_written(tmp_path, argv, match):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=match):
        command(*argv, "--out", out, "--no-progress")
    assert not out.exists()


def test_bad_folders_and_resumes(runs, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    cases = [
        (["dcgan", "--out", a_file], "is a file, not a folder"),
        (["dcgan", "--out", runs / "dcgan"], "already holds a run"),
        (["dcgan", "--resume", tmp_path / "nothing"], "is not a folder"),
        (["dcgan", "--resume", tmp_path], "holds no checkpoint"),
        (["cgan", "--resume", runs / "dcgan", "--epochs", "3"], "is a dcgan, not a cgan"),
        (["dcgan", "--resume", runs / "dcgan", "--epochs", "3", "--lr", "0.1"],
         "a resumed run keeps its config"),
        (["dcgan", "--resume", runs / "dcgan", "--epochs", "2"], "has already trained 2 epochs"),
    ]
    for argv, match in cases:
        with pytest.raises(ConfigError, match=match):
            command(*argv, "--no-progress")
    with pytest.raises(SystemExit):          # argparse: --loss is not a wgan-gp option
        parser().parse_args(["wgan-gp", "--loss", "bce"])
    with pytest.raises(ConfigError, match="--gp-weight applies to wgan-gp only"):
        GANConfig("dcgan", gp_weight=10.0).check()
    with pytest.raises(ConfigError, match="unknown loss 'wasserstein'"):
        GANConfig("dcgan", loss="wasserstein").check()
    with pytest.raises(ConfigError, match="unknown model"):
        add_train_command(argparse.ArgumentParser().add_subparsers(), "transformer")


def test_ctrl_c_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    import minigen.runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(minigen.runs, "train", interrupted)
    assert command("dcgan", "--out", tmp_path / "r", "--no-progress") == 130
    assert f"--resume {tmp_path / 'r'}" in capsys.readouterr().err


def test_train_function_refuses_a_bad_config_before_writing(tmp_path):
    with pytest.raises(ConfigError, match="unknown model"):
        train(GANConfig("vae"), tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()
