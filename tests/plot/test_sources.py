"""What the plots accept (a study, its results, a store path) and how matplotlib is loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sherpa
import sherpa.plot
from sherpa.storage import sqlite_url

from .conftest import loss, mixed_parameters


def _stored_study(url: str, name: str) -> None:
    study = sherpa.Study(
        mixed_parameters(),
        sherpa.algorithms.RandomSearch(max_num_trials=6, seed=1),
        lower_is_better=True,
        disable_dashboard=True,
        storage=url,
        study_name=name,
    )
    for trial in study:
        for iteration in (1, 2):
            study.add_observation(trial, loss(trial.parameters, iteration), iteration=iteration)
        study.finalize(trial)
    assert study.storage is not None
    study.storage.close()


@pytest.mark.parametrize(
    "plot",
    [
        sherpa.plot.plot_optimization_history,
        sherpa.plot.plot_parallel_coordinates,
        sherpa.plot.plot_learning_curves,
        sherpa.plot.plot_parameter_importance,
    ],
)
def test_every_plot_reads_a_store_and_writes_a_png(tmp_path: Path, plot: object) -> None:
    _stored_study(sqlite_url(tmp_path / "sherpa.db"), "stored")
    target = tmp_path / "plot.png"
    figure = plot(tmp_path, path=target)  # type: ignore[operator]
    assert figure.axes
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_store_with_several_studies_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sherpa.db")
    _stored_study(url, "one")
    _stored_study(url, "two")
    with pytest.raises(ValueError, match=r"holds 2 studies \(one, two\); load the one to plot"):
        sherpa.plot.plot_learning_curves(tmp_path)
    study = sherpa.Study.load(tmp_path, study_name="one")
    assert len(sherpa.plot.plot_learning_curves(study).axes[0].get_lines()) == 6


def test_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(sherpa.exceptions.StorageUnreachableError, match="no sherpa store"):
        sherpa.plot.plot_optimization_history(tmp_path / "missing")


def test_other_sources_are_refused() -> None:
    with pytest.raises(
        TypeError, match=r"study must be a sherpa.Study, its results DataFrame.*got 42"
    ):
        sherpa.plot.plot_optimization_history(42)  # type: ignore[arg-type]


def test_a_frame_without_the_results_columns(mixed_study: sherpa.Study) -> None:
    frame = mixed_study.results.drop(columns=["Status"])
    with pytest.raises(ValueError, match=r"missing \['Status'\]"):
        sherpa.plot.plot_optimization_history(frame, lower_is_better=True)


def test_import_is_light_and_agg_is_chosen_without_a_display() -> None:
    code = (
        "import sys\n"
        "import sherpa.plot\n"
        "print('matplotlib' in sys.modules)\n"
        "sys.path.insert(0, 'tests/plot')\n"
        "from conftest import run_mixed_study\n"
        "sherpa.plot.plot_optimization_history(run_mixed_study(num_trials=3))\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend().lower())\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["False", "agg"]


def test_a_chosen_backend_is_kept() -> None:
    code = (
        "import sherpa.plot, matplotlib\n"
        "import sys; sys.path.insert(0, 'tests/plot')\n"
        "from conftest import run_mixed_study\n"
        "sherpa.plot.plot_optimization_history(run_mixed_study(num_trials=3))\n"
        "print(matplotlib.get_backend().lower())\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    env.pop("DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["svg"]
