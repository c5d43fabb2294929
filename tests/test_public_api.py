"""The public surface: SHERPA's names, and nothing else leaking."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import sherpa

PUBLIC_MODULES = [
    "sherpa",
    "sherpa.algorithms",
    "sherpa.schedulers",
    "sherpa.storage",
    "sherpa.study",
    "sherpa.runner",
    "sherpa.exceptions",
    "sherpa.logging",
    "sherpa.parameters",
    "sherpa.trial",
    "sherpa.client",
    "sherpa.cli",
    "sherpa.plot",
    "sherpa.core",
    "sherpa.database",
    "sherpa.algorithms.core",
    "sherpa.algorithms.successive_halving",
]

SHERPA_NAMES = [
    "Client",
    "Study",
    "Trial",
    "TrialStatus",
    "AlgorithmState",
    "Continuous",
    "Discrete",
    "Choice",
    "Ordinal",
    "Parameter",
    "optimize",
    "algorithms.Algorithm",
    "algorithms.RandomSearch",
    "algorithms.GridSearch",
    "algorithms.Iterate",
    "algorithms.BayesianOptimization",
    "algorithms.GPyOpt",
    "algorithms.bayesian_optimization.GPyOpt",
    "algorithms.LocalSearch",
    "algorithms.PopulationBasedTraining",
    "algorithms.Genetic",
    "algorithms.Repeat",
    "algorithms.Chain",
    "algorithms.SuccessiveHalving",
    "algorithms.MedianStoppingRule",
    "algorithms.TPE",
    "schedulers.Scheduler",
    "schedulers.LocalScheduler",
    "schedulers.SLURMScheduler",
    "schedulers.SGEScheduler",
    # SHERPA's module paths
    "core.Trial",
    "core.Study",
    "core.AlgorithmState",
    "core.Continuous",
    "core.optimize",
    "database.Client",
    "algorithms.core.Algorithm",
    "algorithms.core.RandomSearch",
    "algorithms.core.MedianStoppingRule",
    "algorithms.successive_halving.SuccessiveHalving",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_names_resolve(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


@pytest.mark.parametrize("module_name", ["sherpa", "sherpa.algorithms", "sherpa.schedulers"])
def test_no_public_name_outside_all(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module_name).startswith("sherpa")
        and not isinstance(value, type(sys))
        and name not in {"annotations", "TYPE_CHECKING", "Any"}
    }
    assert public <= set(module.__all__)


@pytest.mark.parametrize("dotted", SHERPA_NAMES)
def test_sherpa_names_exist(dotted: str) -> None:
    value: object = sherpa
    for part in dotted.split("."):
        value = getattr(value, part)
    assert value is not None


def test_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, sherpa\n"
        "heavy = [m for m in ('numpy', 'pandas', 'sqlalchemy') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_does_not_configure_root_logger() -> None:
    code = "import logging, sherpa\nprint(len(logging.getLogger().handlers))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sherpa.Nope  # noqa: B018


def test_algorithms_load_scipy_only_when_a_model_based_one_is_used() -> None:
    code = (
        "import sys, sherpa\n"
        "sherpa.algorithms.RandomSearch\n"
        "print('scipy' in sys.modules)\n"
        "sherpa.algorithms.GPyOpt\n"
        "print('scipy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
