"""The trial side: find the store, fetch the trial, send metrics.

A trial script runs in its own process, started by the runner::

    import sherpa

    client = sherpa.Client()
    trial = client.get_trial()
    for epoch in range(1, 11):
        loss = train_one_epoch(trial.parameters)
        client.send_metrics(trial=trial, iteration=epoch, objective=loss)

The runner sets ``SHERPA_DB_URL``, ``SHERPA_STUDY_ID`` and ``SHERPA_TRIAL_ID``; this module
imports neither pandas, numpy nor SQLAlchemy for SQLite stores, so trial processes start fast.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sherpa import _env
from sherpa._convert import check_iteration, check_objective, to_jsonable
from sherpa._keras import make_keras_callback
from sherpa.exceptions import DuplicateObservationError, StorageUnreachableError
from sherpa.logging import get_logger
from sherpa.parameters import RESULTS_COLUMNS
from sherpa.storage._channel import TrialChannel
from sherpa.storage._heartbeat import Heartbeat, parse_interval
from sherpa.storage._statements import PendingObservation
from sherpa.storage._urls import display_url, is_sqlite_url
from sherpa.storage._writer import BackgroundWriter
from sherpa.trial import Trial

__all__ = ["Client", "check_context"]

_logger = get_logger(__name__)


def check_context(context: object, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``context`` as JSON-ready values, rejecting names the results table already uses.

    Raises:
        TypeError: not a dict of string keys, or a value that cannot be stored.
        ValueError: a key is a results column or one of the trial's parameters.
    """
    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise TypeError(f"context must be a dict; got {context!r} ({type(context).__name__})")
    for key in context:
        if not isinstance(key, str):
            raise TypeError(f"context keys must be strings; got {key!r} in context")
        if key in RESULTS_COLUMNS or key in parameters:
            raise ValueError(
                f"context key {key!r} would overwrite the results column of the same name; "
                "rename it"
            )
    return {key: to_jsonable(value, where=f"context[{key!r}]") for key, value in context.items()}


def _replace_host_port(url: str, host: str | None, port: int | None) -> str:
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StorageUnreachableError(
            f"Client: {_env.DB_URL}={display_url(url)!r} is not a valid database URL"
        ) from None
    if host is not None:
        parsed = parsed.set(host=host)
    if port is not None:
        parsed = parsed.set(port=int(port))
    return parsed.render_as_string(hide_password=False)


class Client:
    """Connects a trial script to the study that started it.

    Args:
        host: The database host, overriding the one in ``SHERPA_DB_URL`` (for server
            databases; ignored with a warning for SQLite files).
        port: The database port, likewise.
        test_mode: Run the script on its own, without a runner: :meth:`get_trial` returns a
            trial built from ``test_parameters`` and metrics are only logged.
        synchronous: When True (the default), :meth:`send_metrics` returns once the store
            has the observation, and raises at once if the store refuses it. When False it
            queues the observation and returns in microseconds; a background thread stores
            the queue in batches, and a refusal is raised by the next ``send_metrics``,
            :meth:`flush` or :meth:`close`. The queue is flushed when the process exits
            normally; a process killed by a signal loses what was still queued.
        **kwargs: ``db_url`` (a database URL, instead of ``SHERPA_DB_URL``), ``study_id``
            (instead of ``SHERPA_STUDY_ID``) and ``test_parameters`` (a dict, for test mode).
            Other keywords were options of SHERPA's MongoDB client; they are ignored with a
            warning.

    Raises:
        StorageUnreachableError: no store is configured, or it cannot be opened.
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        test_mode: bool = False,
        *,
        synchronous: bool = True,
        **kwargs: Any,
    ) -> None:
        if not isinstance(synchronous, bool):
            raise TypeError(f"synchronous must be True or False; got {synchronous!r}")
        db_url = kwargs.pop("db_url", None) or os.environ.get(_env.DB_URL)
        study_id = kwargs.pop("study_id", None) or os.environ.get(_env.STUDY_ID)
        self._test_parameters = dict(kwargs.pop("test_parameters", None) or {})
        if kwargs:
            _logger.warning(
                "Client: ignoring %s (options of SHERPA's MongoDB client)", sorted(kwargs)
            )
        self.test_mode = bool(test_mode)
        if self.test_mode and not self._test_parameters:
            _logger.warning("Client: test mode without test_parameters; trial.parameters is {}")
        self.test_metrics: list[tuple[int, int, float, dict[str, Any]]] = []
        self.synchronous = synchronous
        self._pid = os.getpid()
        self._channel: TrialChannel | None = None
        self._heartbeat: Heartbeat | None = None
        self._writer: BackgroundWriter | None = None
        if self.test_mode:
            return
        if not db_url:
            raise StorageUnreachableError(
                f"Client: no store configured: the environment variable {_env.DB_URL} is not "
                "set. The runner (sherpa.optimize) sets it for each trial; to run this script "
                "on its own, use sherpa.Client(test_mode=True)."
            )
        if not study_id:
            raise StorageUnreachableError(
                f"Client: the environment variable {_env.STUDY_ID} is not set; the runner "
                f"sets it together with {_env.DB_URL}={display_url(db_url)!r}"
            )
        if host is not None or port is not None:
            if is_sqlite_url(db_url):
                _logger.warning("Client: host and port are ignored for the SQLite store")
            else:
                db_url = _replace_host_port(db_url, host, port)
        self._channel = TrialChannel(db_url, _parse_int(study_id, _env.STUDY_ID))

    def get_trial(self) -> Trial:
        """Return the trial this process was started for (``SHERPA_TRIAL_ID``).

        From then on, until the process ends or :meth:`close` is called, a background thread
        stamps the trial's heartbeat in the store every few seconds, so that the runner can
        tell a trial that computes between two metrics from one whose host died.

        Raises:
            StorageUnreachableError: ``SHERPA_TRIAL_ID`` is not set.
            UnknownTrialError: the store has no such trial.
        """
        raw_id = os.environ.get(_env.TRIAL_ID)
        if self._channel is None:
            number = 1 if raw_id is None else _parse_int(raw_id, _env.TRIAL_ID)
            return Trial(id=number, parameters=dict(self._test_parameters))
        if raw_id is None:
            raise StorageUnreachableError(
                f"Client.get_trial: the environment variable {_env.TRIAL_ID} is not set; "
                "the runner sets it for each trial it starts"
            )
        number = _parse_int(raw_id, _env.TRIAL_ID)
        trial = Trial(id=number, parameters=self._channel.get_parameters(number))
        self._start_heartbeat(self._channel, number)
        return trial

    def _start_heartbeat(self, channel: TrialChannel, number: int) -> None:
        if self._heartbeat is not None and self._heartbeat.number == number:
            return
        if self._heartbeat is not None:
            self._heartbeat.stop()
        interval = parse_interval(os.environ.get(_env.HEARTBEAT_INTERVAL), _env.HEARTBEAT_INTERVAL)
        self._heartbeat = Heartbeat(channel, number, interval)
        self._heartbeat.start()
        # Stops the thread when the client is collected or the interpreter exits.
        weakref.finalize(self, self._heartbeat.stop, only_if_writing=True)

    def send_metrics(
        self,
        trial: Trial,
        iteration: int,
        objective: float,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Report the objective (and other metrics) of ``trial`` at one iteration.

        Args:
            trial: The trial from :meth:`get_trial`.
            iteration: The iteration (e.g. epoch), 0 or more; each may be reported once.
            objective: The value being optimized; numpy scalars are stored as plain numbers.
            context: Other metrics to keep alongside, e.g. ``{"train_loss": 0.3}``.

        Raises:
            TypeError: ``objective`` is not a real number, or a context value cannot be
                stored.
            DuplicateObservationError: this iteration was already reported.
            TrialFinishedError: the runner has already ended the trial.
            StorageUnreachableError: the store cannot be reached. With
                ``synchronous=False`` the last three concern an observation sent by an
                earlier call, which was not stored (the error names its iteration); this
                call's observation is queued all the same.
        """
        if not isinstance(trial, Trial):
            raise TypeError(f"trial must be a sherpa.Trial; got {trial!r}")
        iteration = check_iteration(iteration)
        value = check_objective(objective)
        checked = check_context(context, trial.parameters)
        if self._channel is None and not self.test_mode:
            raise RuntimeError("Client.send_metrics: the client is closed")
        if self._channel is None:
            if any(m[0] == trial.id and m[1] == iteration for m in self.test_metrics):
                raise DuplicateObservationError(
                    f"trial {trial.id} already has an observation at iteration {iteration}"
                )
            self.test_metrics.append((trial.id, iteration, value, checked))
            _logger.info(
                "test mode: trial %d iteration %d objective=%s context=%s",
                trial.id,
                iteration,
                value,
                checked,
            )
            return
        if self.synchronous:
            self._channel.add_observation(trial.id, iteration, value, checked)
            return
        if self._writer is None:
            self._writer = BackgroundWriter(self._channel)
        self._writer.put(PendingObservation(trial.id, iteration, value, checked, time.time()))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every metric sent with ``synchronous=False`` is stored.

        Nothing to wait for with ``synchronous=True``.

        Args:
            timeout: At most this many seconds; None waits as long as it takes.

        Raises:
            TimeoutError: metrics are still waiting after ``timeout`` seconds.
            DuplicateObservationError, TrialFinishedError, StorageUnreachableError: the
                store refused a metric sent earlier (the first such reason; later ones are
                logged).
        """
        _check_timeout(timeout)
        if self._writer is not None:
            self._writer.flush(timeout)

    def keras_send_metrics(
        self, trial: Trial, objective_name: str, context_names: Sequence[str] = ()
    ) -> Any:
        """Return a Keras callback that sends ``logs[objective_name]`` after every epoch.

        Args:
            trial: The trial from :meth:`get_trial`.
            objective_name: The Keras metric to report as objective, e.g. ``"val_loss"``.
            context_names: Other Keras metrics to report as context.
        """

        def report(iteration: int, objective: float, context: dict[str, Any]) -> None:
            self.send_metrics(trial, iteration, objective, context)

        return make_keras_callback(report, objective_name, context_names)

    def close(self, timeout: float | None = None) -> None:
        """Store the metrics still queued, stop the heartbeat, close the connection.

        Args:
            timeout: At most this many seconds for the queued metrics (``synchronous=False``);
                None waits as long as it takes.

        Raises:
            TimeoutError, DuplicateObservationError, TrialFinishedError,
            StorageUnreachableError: as :meth:`flush`; the connection is closed all the same.
        """
        _check_timeout(timeout)
        writer, self._writer = self._writer, None
        if os.getpid() != self._pid:  # a forked child: the queue and connection are the parent's
            self._release()
            return
        try:
            if writer is not None:
                writer.close(timeout)
        finally:
            # A writer still waiting for the store keeps using the connection; it is left
            # open for it (and closed when the process ends) rather than pulled from under it.
            self._release(keep_channel=writer is not None and writer.is_alive)

    def _release(self, *, keep_channel: bool = False) -> None:
        forked = os.getpid() != self._pid  # the connection and the heartbeat are the parent's
        if self._heartbeat is not None:
            if not forked:
                self._heartbeat.stop()
            self._heartbeat = None
        if self._channel is not None:
            if not (forked or keep_channel):
                self._channel.close()
            self._channel = None


def _check_timeout(timeout: object) -> None:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0
    ):
        raise ValueError(f"timeout must be None or a number of seconds >= 0; got {timeout!r}")


def _parse_int(raw: object, name: str) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise ValueError(f"{name} must be an integer; got {raw!r}") from None
