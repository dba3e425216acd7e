"""The ``minigen`` command: tiny training runs write every promised file, ``--resume`` goes on
exactly, ``sample`` writes .npz/.png, and every bad argument is one line on stderr, exit 2,
with nothing written."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigen
from minigen import backend
from minigen.cli import main
from minigen.models.autoencoders import CVAE, VAE, Autoencoder
from minigen.runs import load_run
from minigen.training.autoencoders import AutoencoderConfig as TrainConfig

np = backend.np
TINY = ["--epochs", "1", "--train-size", "64", "--test-size", "40", "--batch-size", "32",
        "--no-progress"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).parent.parent


def run_cli(args, capsys):
    """(exit status, stdout, stderr) of ``minigen args``, run in this process."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny one-epoch run per model: {"ae": folder, "vae": folder, "cvae": folder}."""
    root = tmp_path_factory.mktemp("runs")
    folders = {}
    for model in ("ae", "vae", "cvae"):
        folders[model] = root / model
        assert main(["train", model, "--out", str(folders[model]), "--latent-dim", "4"]
                    + TINY) == 0
    return folders


def read_png_shape(path):
    from matplotlib.image import imread
    assert path.read_bytes()[:8] == PNG_MAGIC
    return imread(path).shape


@pytest.mark.parametrize("model", ["ae", "vae", "cvae"])
def test_train_writes_every_promised_file(runs, model):
    folder = runs[model]
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.npz", "metrics.json", "reconstructions.png", "samples.png"]
    checkpoint = minigen.load(folder / "checkpoint.npz")
    assert set(checkpoint) == {"model", "optimizer", "epoch", "config", "metrics"}
    assert checkpoint["epoch"] == 1
    assert checkpoint["config"]["model"] == model and checkpoint["config"]["latent_dim"] == 4
    trained = load_run(folder).model
    assert type(trained) is {"ae": Autoencoder, "vae": VAE, "cvae": CVAE}[model]
    assert trained.latent_dim == 4

    metrics = json.loads((folder / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1]
    parts = {"loss"} if model == "ae" else {"loss", "reconstruction", "kl"}
    for split in ("train", "test"):
        assert set(metrics["epochs"][0][split]) == parts
        assert all(np.isfinite(v) and v > 0 for v in metrics["epochs"][0][split].values())
    assert metrics["epochs"][0]["images_per_second"] > 0
    if model == "ae":
        assert "test_neg_elbo" not in metrics
    else:
        assert metrics["test_neg_elbo"] == metrics["epochs"][0]["test"]["loss"]
        test = metrics["epochs"][0]["test"]
        assert test["loss"] == pytest.approx(test["reconstruction"] + test["kl"], rel=1e-5)
    for png in ("reconstructions.png", "samples.png"):
        height, width = read_png_shape(folder / png)[:2]
        assert height > 100 and width > 100


def test_train_prints_the_test_neg_elbo_last(tmp_path, capsys):
    status, out, err = run_cli(["train", "vae", "--out", tmp_path / "r"] + TINY, capsys)
    assert status == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[0].startswith("epoch   1/1")
    neg_elbo = json.loads((tmp_path / "r" / "metrics.json").read_text())["test_neg_elbo"]
    assert lines[-1].startswith(f"test negative ELBO {neg_elbo:.2f} nats/image after 1 epochs")


def test_resume_goes_on_exactly_where_it_stopped(runs, tmp_path, capsys):
    resumed = tmp_path / "resumed"
    shutil.copytree(runs["vae"], resumed)
    status, _, err = run_cli(["train", "vae", "--resume", resumed, "--epochs", 2,
                              "--no-progress"], capsys)
    assert status == 0, err
    assert minigen.load(resumed / "checkpoint.npz")["epoch"] == 2
    before = json.loads((runs["vae"] / "metrics.json").read_text())
    after = json.loads((resumed / "metrics.json").read_text())
    assert [e["epoch"] for e in after["epochs"]] == [1, 2]
    assert after["epochs"][0] == before["epochs"][0]
    assert after["test_neg_elbo"] == after["epochs"][1]["test"]["loss"]
    assert after["config"]["train_size"] == 64           # the run's config, not the defaults

    # A run of 2 epochs without a stop gives the same numbers.
    status, _, _ = run_cli(["train", "vae", "--out", tmp_path / "straight", "--latent-dim", 4]
                           + TINY[:1] + ["2"] + TINY[2:], capsys)
    assert status == 0
    straight = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    for a, b in zip(straight["epochs"], after["epochs"]):
        assert a["train"] == pytest.approx(b["train"], rel=1e-5)
        assert a["test"] == pytest.approx(b["test"], rel=1e-5)


def test_resume_into_another_folder_keeps_the_source(runs, tmp_path, capsys):
    original = (runs["ae"] / "checkpoint.npz").read_bytes()
    status, _, err = run_cli(["train", "ae", "--resume", runs["ae"], "--out", tmp_path / "more",
                              "--epochs", 2, "--no-progress"], capsys)
    assert status == 0, err
    assert (runs["ae"] / "checkpoint.npz").read_bytes() == original
    metrics = json.loads((tmp_path / "more" / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]


@pytest.mark.parametrize("model, extra, n, labels", [
    ("vae", [], 10, None),
    ("ae", [], 3, None),
    ("cvae", [], 12, list(range(10)) + [0, 1]),
    ("cvae", ["--label", "3"], 5, [3] * 5),
])
def test_sample_writes_npz(runs, tmp_path, capsys, model, extra, n, labels):
    out = tmp_path / "s.npz"
    status, _, err = run_cli(["sample", runs[model], "--n", n, "--out", out] + extra, capsys)
    assert status == 0, err
    with np.load(out) as data:
        assert set(data.files) == ({"images"} if labels is None else {"images", "labels"})
        images = data["images"]
        assert images.shape == (n, 1, 28, 28) and images.dtype == np.float32
        assert images.min() >= 0.0 and images.max() <= 1.0
        if labels is not None:
            assert data["labels"].tolist() == labels


def test_sample_is_seeded_and_writes_png(runs, tmp_path, capsys):
    for name in ("a.npz", "b.npz"):
        assert run_cli(["sample", runs["vae"], "--n", 4, "--out", tmp_path / name], capsys)[0] == 0
    with np.load(tmp_path / "a.npz") as a, np.load(tmp_path / "b.npz") as b:
        np.testing.assert_array_equal(a["images"], b["images"])
    status, _, _ = run_cli(["sample", runs["cvae"], "--n", 20, "--out", tmp_path / "g.png"],
                           capsys)
    assert status == 0
    assert read_png_shape(tmp_path / "g.png")[0] > 50


def bad_train_cases(tmp):
    (tmp / "a_file").write_text("not a folder")
    (tmp / "empty").mkdir()
    return {
        "unknown model": ["train", "transformer", "--out", tmp / "o"],
        "zero epochs": ["train", "vae", "--epochs", 0, "--out", tmp / "o"],
        "no out given": ["train", "vae", "--epochs", 0],          # the default out is runs/vae
        "negative epochs": ["train", "vae", "--epochs", -2, "--out", tmp / "o"],
        "epochs not a number": ["train", "vae", "--epochs", "many", "--out", tmp / "o"],
        "zero batch size": ["train", "ae", "--batch-size", 0, "--out", tmp / "o"],
        "zero latent dim": ["train", "ae", "--latent-dim", 0, "--out", tmp / "o"],
        "negative lr": ["train", "ae", "--lr", -1e-3, "--out", tmp / "o"],
        "unknown dataset": ["train", "ae", "--dataset", "cifar", "--out", tmp / "o"],
        "too many train images": ["train", "ae", "--train-size", 4001, "--out", tmp / "o"],
        "out is a file": ["train", "vae", "--out", tmp / "a_file"],
        "out below a file": ["train", "vae", "--out", tmp / "a_file" / "o"],
        "resume without checkpoint": ["train", "vae", "--resume", tmp / "empty"],
        "resume a missing folder": ["train", "vae", "--resume", tmp / "nowhere"],
    }


@pytest.mark.parametrize("case", [
    "unknown model", "no out given", "zero epochs", "negative epochs", "epochs not a number",
    "zero batch size",
    "zero latent dim", "negative lr", "unknown dataset", "too many train images",
    "out is a file", "out below a file", "resume without checkpoint",
    "resume a missing folder"])
def test_bad_train_arguments(tmp_path, capsys, monkeypatch, case):
    monkeypatch.chdir(tmp_path)             # a default out folder would appear here
    args = bad_train_cases(tmp_path)[case]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    status, out, err = run_cli(args, capsys)
    assert status == 2
    assert err.startswith("minigen: error: ") and len(err.strip().splitlines()) == 1, err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before     # nothing written


def test_bad_arguments_against_an_existing_run(runs, tmp_path, capsys):
    snapshot = {p: p.stat().st_mtime_ns for p in runs["vae"].iterdir()}
    cases = {
        "out already holds a run": ["train", "vae", "--out", runs["vae"]] + TINY,
        "resume as another model": ["train", "ae", "--resume", runs["vae"], "--epochs", 3],
        "resume with another config": ["train", "vae", "--resume", runs["vae"], "--epochs", 3,
                                       "--lr", 0.01],
        "resume with no more epochs": ["train", "vae", "--resume", runs["vae"], "--epochs", 1],
    }
    for case, args in cases.items():
        status, _, err = run_cli(args, capsys)
        assert status == 2, case
        assert err.startswith("minigen: error: ") and len(err.strip().splitlines()) == 1, case
    assert {p: p.stat().st_mtime_ns for p in runs["vae"].iterdir()} == snapshot


@pytest.mark.parametrize("case", ["label out of range", "negative label",
                                  "label for an unconditional model", "no checkpoint",
                                  "zero n", "wrong suffix", "missing folder"])
def test_bad_sample_arguments(runs, tmp_path, capsys, case):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "s.npz"
    args = {
        "label out of range": ["sample", runs["cvae"], "--label", 10, "--out", out],
        "negative label": ["sample", runs["cvae"], "--label", -1, "--out", out],
        "label for an unconditional model": ["sample", runs["vae"], "--label", 1, "--out", out],
        "no checkpoint": ["sample", tmp_path / "empty", "--out", out],
        "zero n": ["sample", runs["vae"], "--n", 0, "--out", out],
        "wrong suffix": ["sample", runs["vae"], "--out", tmp_path / "s.txt"],
        "missing folder": ["sample", runs["vae"], "--out", tmp_path / "no" / "s.npz"],
    }[case]
    status, _, err = run_cli(args, capsys)
    assert status == 2
    assert err.startswith("minigen: error: ") and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_python_dash_m_minigen(tmp_path):
    """The module entry point, in a fresh process: a tiny run, then a bad argument."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ok = subprocess.run([sys.executable, "-m", "minigen", "train", "cvae", "--out",
                         str(tmp_path / "r")] + TINY, capture_output=True, text=True,
                        env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1].startswith("test negative ELBO ")
    assert minigen.load(tmp_path / "r" / "checkpoint.npz")["config"]["latent_dim"] == 2
    bad = subprocess.run([sys.executable, "-m", "minigen", "train", "vae", "--epochs", "0",
                          "--out", str(tmp_path / "x")], capture_output=True, text=True,
                         env=env, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "minigen: error: --epochs must be a positive integer, got 0"]
    assert not (tmp_path / "x").exists()


def test_default_latent_sizes():
    assert TrainConfig(model="ae").latent_dim == TrainConfig(model="vae").latent_dim == 16
    assert TrainConfig(model="cvae").latent_dim == 2          # see TrainConfig's docstring
    assert TrainConfig(model="cvae", latent_dim=8).latent_dim == 8


def test_console_script_is_declared():
    text = (REPO / "setup.cfg").read_text()
    assert "minigen = minigen.cli:main" in text.split("[options.entry_points]")[1]


def test_ctrl_c_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    import minigen.runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(minigen.runs, "train", interrupted)
    status, _, err = run_cli(["train", "vae", "--out", tmp_path / "r"], capsys)
    assert status == 130
    assert f"--resume {tmp_path / 'r'}" in err


def test_readme_lists_every_training_command():
    import minigen.runs

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Training commands")[1].split("\n## ")[0]
    names = list(minigen.runs.MODELS)
    missing = [n for n in names if f"`{n}`" not in section and f"`{n} " not in section]
    assert not missing, f"README's 'Training commands' table lacks {missing}"


def test_sample_finds_the_family_of_every_run(tmp_path, capsys):
    """``minigen sample`` reads the run's ``model`` and asks its training module; a cyclegan
    run translates test images of its first domain."""
    run = tmp_path / "cg"
    status, _, err = run_cli(["train", "cyclegan", "--epochs", 2, "--decay-epochs", 1,
                              "--train-size", 16, "--test-size", 8, "--batch-size", 8,
                              "--out", run, "--no-progress"], capsys)
    assert status == 0, err
    status, _, err = run_cli(["sample", run, "--n", 4, "--out", tmp_path / "t.npz"], capsys)
    assert status == 0, err
    assert np.load(tmp_path / "t.npz")["images"].shape == (4, 1, 28, 28)
