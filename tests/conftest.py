"""Test configuration: hypothesis profiles, the float64 default for checks, GPU skipping.

Profiles (``HYPOTHESIS_PROFILE`` overrides the choice):
* ``ci``  — chosen when the environment variable ``CI`` is set: derandomized (the same
  examples every run), no example database, no deadline, few examples.
* ``dev`` — the default elsewhere: many more random examples each run.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

import minigen
from minigen import backend
from minigen.assignments.isolation import foreign_minigen


settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=15, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "dev", deadline=None, max_examples=150, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_sessionstart(session):
    """These tests check the minigen beside them (a student copy's own code, not an
    installed one): stop, in one line, if another one was imported."""
    foreign = foreign_minigen(os.path.dirname(__file__))
    if foreign:
        pytest.exit(foreign, returncode=4)


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu``, with the reason, where CuPy or a CUDA device is missing."""
    try:
        backend._load_cupy()
        reason = None
    except RuntimeError as err:
        reason = str(err)
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"needs a GPU: {reason}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_state():
    """Every test starts on NumPy, float32 by default, with recording on, and the kernel
    choice left to the environment (``MINIGEN_REFERENCE_KERNELS``)."""
    minigen.use("numpy")
    minigen.set_default_dtype("float32")
    minigen.set_grad_enabled(True)
    minigen.use_reference_kernels(None)
    yield
    minigen.use("numpy")
    minigen.set_default_dtype("float32")
    minigen.set_grad_enabled(True)
    minigen.use_reference_kernels(None)
