"""A Keras callback that reports each epoch's logs as an observation (Keras loaded lazily)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["epoch_observation", "make_keras_callback"]

Report = Callable[[int, float, dict[str, Any]], None]


def epoch_observation(
    epoch: int,
    logs: Mapping[str, Any] | None,
    objective_name: str,
    context_names: Sequence[str],
) -> tuple[int, float, dict[str, Any]]:
    """Turn Keras's ``on_epoch_end(epoch, logs)`` into ``(iteration, objective, context)``.

    Keras counts epochs from 0; iterations count from 1, as Keras prints them.

    Raises:
        KeyError: ``logs`` lacks the objective or a context metric; the message lists the
            metrics Keras logged.
    """
    logs = dict(logs or {})
    wanted = [objective_name, *context_names]
    missing = [name for name in wanted if name not in logs]
    if missing:
        raise KeyError(
            f"Keras logged no metric {missing[0]!r} at epoch {epoch + 1}; it logged "
            f"{sorted(logs)!r} (check objective_name / context_names)"
        )
    context = {name: logs[name] for name in context_names}
    return epoch + 1, logs[objective_name], context


def _import_keras() -> Any:
    try:
        import keras

        return keras
    except ImportError:
        pass
    try:
        from tensorflow import keras

        return keras
    except ImportError as exc:
        raise ImportError(
            "the Keras callback needs Keras: pip install keras (with a backend) or tensorflow"
        ) from exc


def make_keras_callback(
    report: Report, objective_name: str, context_names: Sequence[str] = ()
) -> Any:
    """Return a ``keras.callbacks.Callback`` that calls ``report`` at the end of each epoch."""
    keras = _import_keras()
    names = list(context_names)

    class SherpaCallback(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        """Reports ``logs[objective_name]`` and the context metrics after every epoch."""

        def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
            report(*epoch_observation(epoch, logs, objective_name, names))

    return SherpaCallback()
