"""The plotting helpers the lectures share (``minigen.viz``), drawn on the Agg canvas."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from minigen import viz
from minigen.generative.vae import kl_divergence


def _ax():
    return Figure().add_subplot()


def test_show_images_draws_the_grid():
    images = np.random.default_rng(0).random((5, 1, 28, 28))
    ax = viz.show_images(images, nrow=4, title="five", ax=_ax())
    np.testing.assert_array_equal(ax.images[0].get_array(), viz.image_grid(images, nrow=4))
    assert ax.get_title() == "five"


def test_moving_average_and_curves():
    values = [0.0, 2.0, 4.0, 6.0, 8.0]
    np.testing.assert_allclose(viz.moving_average(values, 3), [2.0, 4.0, 6.0])
    ax = viz.plot_curves({"L_D": values, "L_G": values[::-1]}, ax=_ax(), smooth=3)
    (d, g) = ax.get_lines()
    assert d.get_label() == "L_D" and g.get_label() == "L_G"
    np.testing.assert_allclose(d.get_xdata(), [3, 4, 5])      # at the end of each window
    np.testing.assert_allclose(g.get_ydata(), [6.0, 4.0, 2.0])
    with pytest.raises(ValueError, match="at least 6 values"):
        viz.moving_average(values, 6)
    with pytest.raises(ValueError, match="positive integer"):
        viz.moving_average(values, 0)


def test_latent_scatter_checks_its_shapes():
    z, labels = np.random.default_rng(1).standard_normal((20, 2)), np.arange(20) % 10
    ax = viz.latent_scatter(z, labels, ax=_ax())
    np.testing.assert_allclose(ax.collections[0].get_offsets(), z)
    with pytest.raises(ValueError, match=r"z \(N, 2\) and labels \(N,\)"):
        viz.latent_scatter(np.zeros((20, 3)), labels, ax=_ax())


def test_source_line_finds_the_formula_or_says_it_is_gone(capsys):
    assert viz.source_line(kl_divergence, "logvar") is None      # a cell shows it once
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith("minigen/generative/vae.py:") and "(kl_divergence)" in shown[0]
    assert all("logvar" in line for line in shown[1::2])
    with pytest.raises(ValueError, match="not in the source of kl_divergence"):
        viz.source_line(kl_divergence, "no such text anywhere")


def test_source_line_in_a_student_copy_shows_the_students_exercise(tmp_path, monkeypatch,
                                                                    capsys):
    """In a copy built by ``minigen assignment build`` the formula's line may be the
    student's to write: source_line shows their region instead of raising."""
    import importlib
    (tmp_path / "copy_module.py").write_text(
        "def mul_backward(grad, a, b):\n"
        "    # BEGIN SOLUTION mul_backward\n"
        "    grad_a = grad * a   # the student's (wrong) line\n"
        "    # END SOLUTION\n"
        "    return grad_a\n"
        "\n"
        "def blank(grad):\n"
        "    # BEGIN SOLUTION softplus\n"
        "    raise NotImplementedError('Exercise softplus')\n"
        "    # END SOLUTION\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("copy_module")
    with pytest.raises(ValueError, match="not in the source of"):     # the instructor's tree
        viz.source_line(module.mul_backward, "grad * b")
    monkeypatch.setattr(viz, "in_student_copy", lambda: True)
    assert viz.source_line(module.mul_backward, "grad * b") is None
    out = capsys.readouterr().out
    assert "your exercise mul_backward:" in out and "grad_a = grad * a" in out
    viz.source_line(module.blank, "softplus(x)")
    assert "your exercise softplus:\n    (not written yet)" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not in the source of"):   # no region: a change
        viz.source_line(viz.image_grid, "no such text")
