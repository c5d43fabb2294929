from __future__ import annotations

import pytest

import sherpa
from sherpa.algorithms import MedianStoppingRule


def _study_with_curves(curves: dict[int, list[float]], rule: MedianStoppingRule) -> sherpa.Study:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1])],
        sherpa.algorithms.RandomSearch(seed=0),
        lower_is_better=True,
        stopping_rule=rule,
        disable_dashboard=True,
    )
    for number, curve in curves.items():
        trial = sherpa.Trial(number, {"x": 0.5})
        study.add_trial(trial)
        for iteration, value in enumerate(curve, start=1):
            study.add_observation(trial, value, iteration=iteration)
    return study


def test_median_rule_compares_at_the_same_iteration() -> None:
    # Trial 4 is as good as the others early and worse only from iteration 3 on.
    curves = {
        1: [1.0, 0.8, 0.5, 0.4],
        2: [1.1, 0.9, 0.6, 0.5],
        3: [0.9, 0.7, 0.4, 0.3],
        4: [1.0, 0.8, 0.9],
    }
    rule = MedianStoppingRule(min_iterations=1, min_trials=3)
    study = _study_with_curves(curves, rule)
    trial = study.trials[3]
    early = _study_with_curves({**curves, 4: [1.0, 0.8]}, rule)
    assert not early.should_trial_stop(early.trials[3])  # 0.8 == median of (0.8, 0.9, 0.7)
    assert study.should_trial_stop(trial)  # best 0.8 > median 0.5 of (0.5, 0.6, 0.4)
    assert not study.should_trial_stop(study.trials[2])


def test_median_rule_counts_only_trials_that_reached_the_iteration() -> None:
    curves = {1: [1.0], 2: [1.0], 3: [5.0, 5.0, 5.0]}
    study = _study_with_curves(curves, MedianStoppingRule(min_trials=1))
    assert not study.should_trial_stop(study.trials[2])  # nobody else reached iteration 3
    curves[1] = [1.0, 1.0, 1.0]
    study = _study_with_curves(curves, MedianStoppingRule(min_trials=1))
    assert study.should_trial_stop(study.trials[2])


def test_median_rule_waits_for_min_iterations_and_handles_maximizing() -> None:
    curves = {1: [0.9, 0.9], 2: [0.8, 0.8], 3: [0.1, 0.1]}
    study = _study_with_curves(curves, MedianStoppingRule(min_iterations=3))
    assert not study.should_trial_stop(study.trials[2])
    rule = MedianStoppingRule()
    assert rule.should_trial_stop(study.trials[2], study.results, lower_is_better=False)
    assert not rule.should_trial_stop(study.trials[0], study.results, lower_is_better=False)


def test_median_rule_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="min_trials must be at least 1; got 0"):
        MedianStoppingRule(min_trials=0)
