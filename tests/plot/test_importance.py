"""Parameter importance: fANOVA over a random forest, and the binned fallback."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sherpa
from sherpa.plot import parameter_importances, plot_parameter_importance


def additive_study(num_trials: int = 200) -> sherpa.Study:
    """objective = 3x + y; the choice k does nothing. Main-effect shares: x 0.9, y 0.1, k 0."""
    rng = np.random.default_rng(7)
    configs = [
        {"x": float(rng.uniform()), "y": float(rng.uniform()), "k": str(rng.choice(["a", "b"]))}
        for _ in range(num_trials)
    ]
    study = sherpa.Study(
        [
            sherpa.Continuous("x", [0, 1]),
            sherpa.Continuous("y", [0, 1]),
            sherpa.Choice("k", ["a", "b"]),
        ],
        sherpa.algorithms.Iterate(configs),
        lower_is_better=True,
        disable_dashboard=True,
    )
    for trial in study:
        study.add_observation(trial, 3 * trial.parameters["x"] + trial.parameters["y"])
        study.finalize(trial)
    return study


@pytest.fixture(scope="module")
def additive() -> sherpa.Study:
    return additive_study()


# The binned estimate of y's small share is noisy: x's effect is noise within y's bins.
@pytest.mark.parametrize(("method", "tolerance"), [("fanova", 0.04), ("binned", 0.07)])
def test_importances_recover_the_variance_shares(
    additive: sherpa.Study, method: str, tolerance: float
) -> None:
    shares = parameter_importances(additive, method=method)
    assert list(shares) == ["x", "y", "k"]
    assert shares["x"] == pytest.approx(0.9, abs=0.05)
    assert shares["y"] == pytest.approx(0.1, abs=tolerance)
    assert shares["k"] < 0.02


def test_fanova_is_reproducible_by_seed(additive: sherpa.Study) -> None:
    first = parameter_importances(additive, method="fanova", seed=3)
    assert parameter_importances(additive, method="fanova", seed=3) == first
    assert parameter_importances(additive, method="fanova", seed=4) != first


def test_importances_of_a_constant_objective_are_zero() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.Iterate([{"x": v} for v in (0.1, 0.4, 0.9)]),
        lower_is_better=True,
        disable_dashboard=True,
    )
    for trial in study:
        study.add_observation(trial, 1.0)
        study.finalize(trial)
    assert parameter_importances(study, method="fanova") == {"x": 0.0}
    assert parameter_importances(study, method="binned") == {"x": 0.0}


def test_importance_plot_has_a_bar_per_parameter_most_important_on_top(
    mixed_study: sherpa.Study,
) -> None:
    figure = plot_parameter_importance(mixed_study, method="fanova")
    (ax,) = figure.axes
    shares = parameter_importances(mixed_study, method="fanova")
    assert [t.get_text() for t in ax.get_yticklabels()] == list(shares)[::-1]
    assert [bar.get_width() for bar in ax.patches] == list(shares.values())[::-1]
    assert ax.get_title() == "Parameter importance (fANOVA over a random forest)"
    assert ax.get_xlabel() == "Share of objective variance explained alone (main effect)"
    # The toy loss depends most on lr (28 trials are too few to rank the rest reliably).
    assert next(iter(shares)) == "lr"


def test_importance_params_and_errors(mixed_study: sherpa.Study) -> None:
    assert list(parameter_importances(mixed_study, params=["units", "lr"])) == ["lr", "units"]
    with pytest.raises(ValueError, match=r"unknown parameter names \['momentum'\]"):
        plot_parameter_importance(mixed_study, params=["momentum"])
    with pytest.raises(
        ValueError, match="method must be one of 'auto', 'fanova', 'binned'; got 'shap'"
    ):
        parameter_importances(mixed_study, method="shap")


@pytest.mark.parametrize("function", [parameter_importances, plot_parameter_importance])
def test_importance_needs_two_completed_trials_and_names_the_function_called(
    function: object,
) -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.Iterate([{"x": 0.5}]),
        lower_is_better=True,
        disable_dashboard=True,
    )
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 1.0)
    study.finalize(trial)
    name = function.__name__  # type: ignore[attr-defined]
    message = f"{name}: needs at least 2 completed trials with an objective; the study has 1"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        function(study)  # type: ignore[operator]


@pytest.mark.parametrize("function", [parameter_importances, plot_parameter_importance])
def test_importance_unknown_parameter_names_the_function_called(
    mixed_study: sherpa.Study, function: object
) -> None:
    name = function.__name__  # type: ignore[attr-defined]
    message = (
        f"{name}: unknown parameter names ['momentum'] in params=['momentum']; the study's "
        "parameters are ['activation', 'batch_size', 'dropout', 'lr', 'units']"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        function(mixed_study, params=["momentum"])  # type: ignore[operator]


def test_without_scikit_learn_auto_falls_back_to_binned() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["sklearn"] = None  # as if scikit-learn were not installed
        sys.path.insert(0, "tests/plot")
        from conftest import run_mixed_study
        import sherpa.plot
        study = run_mixed_study()
        figure = sherpa.plot.plot_parameter_importance(study)
        print(figure.axes[0].get_title())
        try:
            sherpa.plot.parameter_importances(study, method="fanova")
        except ImportError as exc:
            print(exc)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "Parameter importance (binned variance ratio)",
        "method='fanova' needs scikit-learn: pip install scikit-learn (or use method='binned')",
    ]
