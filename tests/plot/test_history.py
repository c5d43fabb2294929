"""plot_optimization_history: points per finished trial and the best-so-far step line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sherpa
import sherpa.plot
from sherpa.plot import plot_optimization_history


def _final(study: sherpa.Study, status: str) -> tuple[list[int], list[float]]:
    rows = study.results[study.results["Status"] == status]
    return rows["Trial-ID"].tolist(), rows["Objective"].tolist()


def test_history_draws_completed_and_stopped_trials_and_the_best_so_far(
    mixed_study: sherpa.Study,
) -> None:
    figure = plot_optimization_history(mixed_study)
    (ax,) = figure.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Trial", "Objective")
    assert ax.get_title() == "Optimization history (lower is better)"

    completed, stopped = ax.collections
    ids, objectives = _final(mixed_study, "COMPLETED")
    assert len(ids) == 28  # 30 trials less one failed and one stopped
    np.testing.assert_array_equal(completed.get_offsets(), np.column_stack([ids, objectives]))
    stopped_ids, stopped_objectives = _final(mixed_study, "STOPPED")
    np.testing.assert_array_equal(
        stopped.get_offsets(), np.column_stack([stopped_ids, stopped_objectives])
    )

    (best,) = ax.get_lines()
    assert best.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(best.get_xdata(), ids)
    np.testing.assert_array_equal(best.get_ydata(), np.minimum.accumulate(objectives))
    assert best.get_ydata()[-1] == mixed_study.best_objective()[0]  # type: ignore[index]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["Completed trial", "Stopped trial", "Best so far"]


def test_history_best_so_far_follows_higher_is_better() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.Iterate([{"x": v} for v in (0.25, 0.125, 0.75, 0.5)]),
        lower_is_better=False,
        disable_dashboard=True,
    )
    for trial in study:
        study.add_observation(trial, trial.parameters["x"])
        study.finalize(trial)
    figure = plot_optimization_history(study)
    (best,) = figure.axes[0].get_lines()
    assert best.get_ydata().tolist() == [0.25, 0.25, 0.75, 0.75]
    assert len(figure.axes[0].collections) == 1  # no stopped trial, no second marker set
    assert figure.axes[0].get_title() == "Optimization history (higher is better)"


def test_history_of_a_results_frame_needs_the_direction(mixed_study: sherpa.Study) -> None:
    with pytest.raises(ValueError, match="plot_optimization_history: lower_is_better is required"):
        plot_optimization_history(mixed_study.results)
    figure = plot_optimization_history(mixed_study.results, lower_is_better=True)
    assert len(figure.axes[0].collections[0].get_offsets()) == 28


def test_history_log_objective(mixed_study: sherpa.Study) -> None:
    figure = plot_optimization_history(mixed_study, log_objective=True)
    assert figure.axes[0].get_yscale() == "log"


def test_history_log_objective_refuses_values_not_above_zero() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [-1, 1])],
        sherpa.algorithms.Iterate([{"x": -0.5}]),
        lower_is_better=True,
        disable_dashboard=True,
    )
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, -0.5)
    study.finalize(trial)
    with pytest.raises(ValueError, match=r"needs objectives above 0; the smallest is -0.5"):
        plot_optimization_history(study, log_objective=True)


def test_history_of_a_study_without_finished_trials() -> None:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.RandomSearch(),
        lower_is_better=True,
        disable_dashboard=True,
    )
    with pytest.raises(ValueError, match="has no finished trial with an objective to plot"):
        plot_optimization_history(study)


def test_history_writes_a_png(mixed_study: sherpa.Study, tmp_path: Path) -> None:
    import matplotlib.image

    target = tmp_path / "history.png"
    figure = plot_optimization_history(mixed_study, path=target)
    image = matplotlib.image.imread(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.shape[0] > 300 and image.shape[1] > 600
    assert figure.get_size_inches().tolist() == [8.0, 4.8]


def test_history_path_in_a_missing_folder(mixed_study: sherpa.Study, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"path: the folder .*nope' does not exist"):
        plot_optimization_history(mixed_study, path=tmp_path / "nope" / "history.png")
