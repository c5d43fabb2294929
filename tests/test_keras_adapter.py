from __future__ import annotations

import pytest

from sherpa._keras import epoch_observation


def test_epoch_observation_maps_keras_logs() -> None:
    assert epoch_observation(0, {"val_loss": 0.2, "acc": 0.9, "x": 1}, "val_loss", ["acc"]) == (
        1,
        0.2,
        {"acc": 0.9},
    )


def test_epoch_observation_names_missing_metric() -> None:
    with pytest.raises(KeyError, match=r"no metric 'val_acc' at epoch 3.*\['loss'\]"):
        epoch_observation(2, {"loss": 0.1}, "val_acc", [])
