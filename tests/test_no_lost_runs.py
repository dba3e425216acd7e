"""No lost runs, no silent wrong results, one-line errors (issue 15's bad-input list for
the commands): sample never writes over a run's files or an existing file, train never
into a folder of other files, non-finite settings and diverged runs stop clearly, and a
tampered or NaN checkpoint is one line, exit 2."""
import json

import numpy as np
import pytest

import minigen
from minigen import cli
from minigen.cli import main
from minigen.runs import CHECKPOINT, METRICS
from minigen.runs.autoencoders import AutoencoderRun

TINY = ["--epochs", "1", "--train-size", "64", "--test-size", "40", "--batch-size", "32",
        "--latent-dim", "4", "--no-progress"]


def run_cli(args, capsys):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_error(status, err, code=2):
    return status == code and err.startswith("minigen: error: ") and \
        len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lost") / "ae"
    assert main(["train", "ae", "--out", str(out)] + TINY) == 0
    return out


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


# ---------------------------------------------------------------- sample
def test_sample_refuses_to_write_into_a_run_folder(ae_run, capsys):
    before = snapshot(ae_run)
    for name in (CHECKPOINT, "new.npz", "samples.png"):
        status, _, err = run_cli(["sample", ae_run, "--n", 4, "--out", ae_run / name,
                                  "--force"], capsys)
        assert one_line_error(status, err) and "inside the run folder" in err
    assert snapshot(ae_run) == before


def test_sample_overwrites_an_existing_file_only_with_force(ae_run, tmp_path, capsys):
    out = tmp_path / "mine.npz"
    out.write_bytes(b"the user's own file")
    status, _, err = run_cli(["sample", ae_run, "--n", 4, "--out", out], capsys)
    assert one_line_error(status, err) and "unless --force" in err
    assert out.read_bytes() == b"the user's own file"
    assert run_cli(["sample", ae_run, "--n", 4, "--out", out, "--force"], capsys)[0] == 0
    assert np.load(out)["images"].shape == (4, 1, 28, 28)


def test_a_read_only_out_is_refused_before_sampling(ae_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)   # as if read-only
    monkeypatch.setattr(cli.runs, "sample_arrays",
                        lambda *a, **k: pytest.fail("sampled before checking --out"))
    status, _, err = run_cli(["sample", ae_run, "--out", tmp_path / "s.npz"], capsys)
    assert one_line_error(status, err) and "permission denied" in err


def test_a_huge_n_is_refused_with_the_memory_it_would_need(ae_run, tmp_path, capsys):
    status, _, err = run_cli(["sample", ae_run, "--n", 10**9, "--out", tmp_path / "s.npz"],
                             capsys)
    assert one_line_error(status, err) and "would need 2921 GiB" in err
    assert not (tmp_path / "s.npz").exists()


def test_sample_refuses_a_checkpoint_with_nan_weights(ae_run, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    checkpoint = minigen.load(ae_run / CHECKPOINT)
    name = next(iter(checkpoint["model"]))
    checkpoint["model"][name] = checkpoint["model"][name] * np.nan
    minigen.save(checkpoint, broken / CHECKPOINT)
    status, _, err = run_cli(["sample", broken, "--out", tmp_path / "s.png"], capsys)
    assert one_line_error(status, err) and f"{name}: NaN or infinite values" in err
    assert not (tmp_path / "s.png").exists()


@pytest.mark.parametrize("tamper", ["missing key", "wrong-shape weight", "changed config",
                                    "missing weight"])
def test_a_tampered_checkpoint_is_one_line(ae_run, tmp_path, capsys, tamper):
    broken = tmp_path / "broken"
    broken.mkdir()
    checkpoint = minigen.load(ae_run / CHECKPOINT)
    name = next(iter(checkpoint["model"]))
    if tamper == "missing key":
        del checkpoint["optimizer"]
    elif tamper == "wrong-shape weight":
        checkpoint["model"][name] = np.zeros((3, 3), dtype=np.float32)
    elif tamper == "changed config":
        checkpoint["config"]["latent_dim"] = 9
    else:
        del checkpoint["model"][name]
    minigen.save(checkpoint, broken / CHECKPOINT)
    status, _, err = run_cli(["sample", broken, "--out", tmp_path / "s.npz"], capsys)
    assert one_line_error(status, err), err
    status, _, err = run_cli(["train", "ae", "--resume", broken, "--epochs", 3,
                              "--no-progress"], capsys)
    assert one_line_error(status, err), err


# ---------------------------------------------------------------- train
def test_train_refuses_a_folder_of_other_files(tmp_path, capsys):
    out = tmp_path / "d"
    out.mkdir()
    (out / "samples.png").write_bytes(b"the user's picture")
    status, _, err = run_cli(["train", "ae", "--out", out] + TINY, capsys)
    assert one_line_error(status, err) and "holds files that are not a run (samples.png)" in err
    assert [p.name for p in out.iterdir()] == ["samples.png"]
    assert (out / "samples.png").read_bytes() == b"the user's picture"


@pytest.mark.parametrize("option, value", [("--lr", "inf"), ("--lr", "nan"),
                                            ("--lr", "-inf")])
def test_non_finite_settings_are_refused(tmp_path, capsys, option, value):
    status, _, err = run_cli(["train", "ae", option, value, "--out", tmp_path / "o"] + TINY,
                             capsys)
    assert one_line_error(status, err) and option in err
    assert not (tmp_path / "o").exists()


def test_gan_metrics_that_need_more_samples_are_refused_up_front(tmp_path, capsys):
    status, _, err = run_cli(["train", "gan", "--final-samples", 1, "--epoch-samples", 0,
                              "--epochs", 1, "--out", tmp_path / "o"], capsys)
    assert one_line_error(status, err) and "--final-samples must be 0 or at least 10" in err
    assert not (tmp_path / "o").exists()


def test_a_diverged_run_stops_naming_the_step_and_keeps_its_last_epoch(tmp_path, capsys,
                                                                       monkeypatch):
    out = tmp_path / "r"
    assert main(["train", "ae", "--out", str(out)] + TINY) == 0
    kept = (out / CHECKPOINT).read_bytes()
    step = AutoencoderRun.step
    calls = []

    def diverging(self, batch):
        calls.append(1)
        logs = step(self, batch)
        return {**logs, "loss": float("nan")} if len(calls) == 2 else logs

    monkeypatch.setattr(AutoencoderRun, "step", diverging)
    status, _, err = run_cli(["train", "ae", "--resume", out, "--epochs", 2, "--no-progress"],
                             capsys)
    assert status == cli.EXIT_FAILED and len(err.strip().splitlines()) == 1
    assert "epoch 2/2, step 2: loss became nan" in err
    assert (out / CHECKPOINT).read_bytes() == kept                     # epoch 1 stays
    assert len(json.loads((out / METRICS).read_text())["epochs"]) == 1


def test_sampler_flags_belong_to_diffusion_runs(ae_run, tmp_path, capsys):
    status, _, err = run_cli(["sample", ae_run, "--steps", 10, "--out", tmp_path / "s.npz"],
                             capsys)
    assert one_line_error(status, err) and "--steps is an option of the diffusion sampler" in err


def test_a_model_too_large_for_memory_is_one_line(tmp_path, capsys):
    status, _, err = run_cli(["train", "ae", "--latent-dim", 100_000_000, "--epochs", 1,
                              "--out", tmp_path / "o", "--no-progress"], capsys)
    assert one_line_error(status, err) and "does not fit in memory" in err and "TiB" in err
    assert not (tmp_path / "o").exists()


def test_a_failing_evaluation_saves_the_trained_weights_first(tmp_path, capsys, monkeypatch):
    def failing(self, entry, steps, history):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(AutoencoderRun, "end_epoch", failing)
    out = tmp_path / "r"
    status, _, err = run_cli(["train", "ae", "--out", out] + TINY, capsys)
    assert status == cli.EXIT_FAILED and len(err.strip().splitlines()) == 1
    assert "epoch 1's evaluation failed (LinAlgError: Eigenvalues did not converge)" in err
    checkpoint = minigen.load(out / CHECKPOINT)
    assert checkpoint["epoch"] == 1
    assert "LinAlgError" in checkpoint["metrics"]["epochs"][0]["evaluation_error"]
