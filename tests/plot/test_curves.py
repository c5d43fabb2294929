"""plot_learning_curves: one line per trial through its observations."""

from __future__ import annotations

import pytest

import sherpa
from sherpa.plot import plot_learning_curves


def test_curves_draw_every_trial_with_its_observations(mixed_study: sherpa.Study) -> None:
    figure = plot_learning_curves(mixed_study)
    ax, colorbar = figure.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Iteration", "Objective")
    assert ax.get_title() == "Learning curves: 30 trials (lower is better)"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == [f"Trial {n}" for n in range(1, 31)]
    assert ax.get_legend() is None  # more than ten curves: coloured by objective instead
    assert colorbar.get_ylabel() == "Best objective of the trial"

    stopped = lines[6]  # trial 7 stopped after two iterations
    assert stopped.get_xdata().tolist() == [1, 2]
    results = mixed_study.results
    rows = results[(results["Trial-ID"] == 7) & (results["Status"] == "INTERMEDIATE")]
    assert stopped.get_ydata().tolist() == rows["Objective"].tolist()
    _, best_id = mixed_study.best_objective()  # type: ignore[misc]
    widths = {line.get_label(): line.get_linewidth() for line in lines}
    assert widths.pop(f"Trial {best_id}") == 2.6
    assert set(widths.values()) == {1.2}


def test_curves_max_trials_keeps_the_best_with_a_legend(mixed_study: sherpa.Study) -> None:
    figure = plot_learning_curves(mixed_study, max_trials=3)
    (ax,) = figure.axes
    results = mixed_study.results
    intermediate = results[results["Status"] == "INTERMEDIATE"]
    best_three = sorted(intermediate.groupby("Trial-ID")["Objective"].min().nsmallest(3).index)
    _, best_id = mixed_study.best_objective()  # type: ignore[misc]
    expected = [f"Trial {n}" + (" (best)" if n == best_id else "") for n in best_three]
    assert [line.get_label() for line in ax.get_lines()] == expected
    assert [t.get_text() for t in ax.get_legend().get_texts()] == expected


def test_curves_trial_ids(mixed_study: sherpa.Study) -> None:
    figure = plot_learning_curves(mixed_study, trial_ids=[9, 2])
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["Trial 9", "Trial 2"]


def test_curves_unknown_trial_ids(mixed_study: sherpa.Study) -> None:
    with pytest.raises(
        ValueError,
        match=r"trial_ids \[31, 40\] have no observations in the study "
        r"\(trials with observations: 1-30\)",
    ):
        plot_learning_curves(mixed_study, trial_ids=[3, 31, 40])


def test_curves_bad_max_trials(mixed_study: sherpa.Study) -> None:
    with pytest.raises(ValueError, match="max_trials must be at least 1; got 0"):
        plot_learning_curves(mixed_study, max_trials=0)


def test_curves_show_running_trials() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.Iterate([{"x": 0.5}]),
        lower_is_better=True,
        disable_dashboard=True,
    )
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    for iteration, value in enumerate([3.0, 2.0, 1.5], start=1):
        study.add_observation(trial, value, iteration=iteration)
    (ax,) = plot_learning_curves(study).axes
    assert ax.get_title() == "Learning curves: 1 trial (lower is better)"
    (line,) = ax.get_lines()
    assert (line.get_xdata().tolist(), line.get_ydata().tolist()) == ([1, 2, 3], [3.0, 2.0, 1.5])
    assert line.get_label() == "Trial 1"  # running: not the best completed trial


def test_curves_of_a_study_without_observations() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.RandomSearch(),
        lower_is_better=True,
        disable_dashboard=True,
    )
    with pytest.raises(ValueError, match="plot_learning_curves: the study has no observation"):
        plot_learning_curves(study)
