from __future__ import annotations

import numpy as np
import pytest

import sherpa


def test_trial_keeps_id_and_parameters() -> None:
    trial = sherpa.Trial(id=np.int64(3), parameters={"a": 1})
    assert (trial.id, type(trial.id), trial.parameters) == (3, int, {"a": 1})
    assert repr(trial) == "Trial(id=3, parameters={'a': 1})"


@pytest.mark.parametrize(
    ("args", "match"),
    [(("1", {}), "id must be an int"), ((True, {}), "id must be an int"), ((1, []), "dict")],
)
def test_trial_rejects_bad_arguments(args: tuple[object, object], match: str) -> None:
    with pytest.raises(TypeError, match=match):
        sherpa.Trial(*args)  # type: ignore[arg-type]


def test_statuses_compare_equal_to_their_names() -> None:
    assert [s.value for s in sherpa.TrialStatus] == [
        "INTERMEDIATE",
        "COMPLETED",
        "FAILED",
        "STOPPED",
    ]
    assert sherpa.TrialStatus.COMPLETED == "COMPLETED"
    assert str(sherpa.TrialStatus.FAILED) == "FAILED"
    assert sherpa.AlgorithmState.DONE == "DONE" and sherpa.AlgorithmState.WAIT == "WAIT"


def test_status_parse() -> None:
    assert sherpa.TrialStatus.parse("stopped") is sherpa.TrialStatus.STOPPED
    with pytest.raises(ValueError, match=r"status must be one of .* got 'DONE'"):
        sherpa.TrialStatus.parse("DONE")
