"""plot_parallel_coordinates: one real axis per parameter, one polyline per completed trial."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from matplotlib.collections import LineCollection

import sherpa
from sherpa.plot import plot_parallel_coordinates

NAMES = ["lr", "dropout", "units", "activation", "batch_size", "Objective"]


def _vertical_axes(figure: object) -> dict[str, object]:
    axes = figure.axes[1:-1]  # type: ignore[attr-defined]
    return {ax.get_label(): ax for ax in axes}


def test_parallel_has_an_axis_per_parameter_and_the_objective(mixed_study: sherpa.Study) -> None:
    figure = plot_parallel_coordinates(mixed_study)
    host, *verticals, colorbar = figure.axes
    assert [ax.get_label() for ax in verticals] == NAMES
    assert [t.get_text() for t in host.get_xticklabels()] == NAMES
    assert colorbar.get_ylabel() == "Objective"
    assert host.get_title() == "Parallel coordinates: 28 completed trials (lower is better)"

    axes = _vertical_axes(figure)
    assert axes["lr"].get_yscale() == "log"
    assert axes["lr"].get_ylim() == pytest.approx((1e-4, 1e-1))
    assert axes["units"].get_yscale() == "log"
    assert axes["dropout"].get_yscale() == "linear"
    assert axes["dropout"].get_ylim() == (0.0, 0.5)
    choice = axes["activation"]
    assert [t.get_text() for t in choice.get_yticklabels()] == ["relu", "tanh", "sigmoid"]
    assert choice.get_yticks().tolist() == [0, 1, 2]
    ordinal = axes["batch_size"]
    assert [t.get_text() for t in ordinal.get_yticklabels()] == ["16", "32", "64", "128"]


def test_parallel_draws_one_polyline_per_completed_trial_at_its_values(
    mixed_study: sherpa.Study,
) -> None:
    figure = plot_parallel_coordinates(mixed_study)
    (lines,) = figure.axes[0].collections
    assert isinstance(lines, LineCollection)
    paths = lines.get_paths()
    assert len(paths) == 28

    # The best trial is drawn last (on top); check where it crosses every axis.
    objective, best_id = mixed_study.best_objective()  # type: ignore[misc]
    best = mixed_study.get_trial(best_id).parameters
    vertices = paths[-1].vertices
    assert vertices[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    results = mixed_study.results
    finals = results[results["Status"] == "COMPLETED"]["Objective"]
    expected = [
        math.log(best["lr"] / 1e-4) / math.log(1e-1 / 1e-4),
        best["dropout"] / 0.5,
        math.log(best["units"] / 16) / math.log(512 / 16),
        (["relu", "tanh", "sigmoid"].index(best["activation"]) + 0.5) / 3,
        ([16, 32, 64, 128].index(best["batch_size"]) + 0.5) / 4,
        (objective - finals.min()) / (finals.max() - finals.min()),
    ]
    np.testing.assert_allclose(vertices[:, 1], expected)
    assert lines.get_array()[-1] == objective  # type: ignore[index]


def test_parallel_params_chooses_and_orders_the_axes(mixed_study: sherpa.Study) -> None:
    figure = plot_parallel_coordinates(mixed_study, params=["activation", "lr"])
    assert [ax.get_label() for ax in figure.axes[1:-1]] == ["activation", "lr", "Objective"]
    assert len(figure.axes[0].collections[0].get_paths()[0].vertices) == 3


def test_parallel_unknown_parameter_name(mixed_study: sherpa.Study) -> None:
    message = (
        "plot_parallel_coordinates: unknown parameter names ['learning_rate'] in "
        "params=['lr', 'learning_rate']; the study's parameters are "
        "['activation', 'batch_size', 'dropout', 'lr', 'units']"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plot_parallel_coordinates(mixed_study, params=["lr", "learning_rate"])


def test_parallel_of_a_results_frame_infers_the_axes(mixed_study: sherpa.Study) -> None:
    figure = plot_parallel_coordinates(mixed_study.results, lower_is_better=True)
    axes = _vertical_axes(figure)
    # A DataFrame has no definitions: columns in results order, numbers linear, text as choices.
    assert list(axes) == ["activation", "batch_size", "dropout", "lr", "units", "Objective"]
    assert axes["lr"].get_yscale() == "linear"
    labels = [t.get_text() for t in axes["activation"].get_yticklabels()]
    assert labels == ["relu", "sigmoid", "tanh"]


def test_parallel_without_completed_trials() -> None:
    study = sherpa.Study(
        [sherpa.Choice("k", ["a", "b"])],
        sherpa.algorithms.Iterate([{"k": "a"}]),
        lower_is_better=True,
        disable_dashboard=True,
    )
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 1.0)
    with pytest.raises(ValueError, match="has no completed trial with an objective to plot"):
        plot_parallel_coordinates(study)


def _three_decimal_study() -> sherpa.Study:
    """30 trials whose objectives span 0.2-0.4, so the objective ticks read 0.200, 0.225, ..."""
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1]), sherpa.Choice("mode", ["ok", "crash"])],
        sherpa.algorithms.RandomSearch(max_num_trials=30, seed=1),
        lower_is_better=True,
        disable_dashboard=True,
    )
    for trial in study:
        objective = 0.4 * (float(trial.parameters["x"]) - 0.3) ** 2 + 0.2
        study.add_observation(trial, objective, iteration=1)
        study.finalize(trial, "COMPLETED")
    return study


@pytest.mark.parametrize("source", ["three_decimals", "mixed"])
def test_parallel_colorbar_leaves_the_objective_tick_labels_clear(
    source: str, mixed_study: sherpa.Study, tmp_path: object
) -> None:
    study = _three_decimal_study() if source == "three_decimals" else mixed_study
    figure = plot_parallel_coordinates(study, path=f"{tmp_path}/parallel.png")
    host, *verticals, colorbar = figure.axes
    objective = verticals[-1]
    assert objective.get_label() == "Objective"

    labels = [t for t in objective.get_yticklabels() if t.get_visible() and t.get_text()]
    if source == "three_decimals":
        assert [t.get_text() for t in labels][:3] == ["0.200", "0.225", "0.250"]
    # The colorbar's left edge (its frame) must lie right of every objective tick label, and
    # right of the host's rotated or plain "Objective" axis name.
    bar_left = colorbar.get_window_extent().x0
    assert len(labels) >= 4
    for label in labels:
        extent = label.get_window_extent()
        assert extent.x1 < bar_left, (label.get_text(), extent.x1, bar_left)
    (name,) = [t for t in host.get_xticklabels() if t.get_text() == "Objective"]
    assert name.get_window_extent().x1 < bar_left
