"""The trial process's heartbeat: a daemon thread that stamps its trial every few seconds.

The runner cannot tell a trial on a node that died from one that computes quietly between
two metrics, unless the trial shows it is alive on its own: the :class:`Heartbeat` thread
writes ``sherpa_trials.heartbeat_at`` (the database's clock), ``host`` and ``pid`` every
``interval`` seconds, from the first :meth:`sherpa.Client.get_trial` until the process ends.
It never raises into the trial script: a failed write is logged once and tried again at the
next beat.
"""

from __future__ import annotations

import math
import os
import threading
from typing import TYPE_CHECKING

from sherpa.logging import get_logger

if TYPE_CHECKING:
    from sherpa.storage._channel import TrialChannel
    from sherpa.storage._statements import Executor

__all__ = ["DEFAULT_INTERVAL_S", "Heartbeat", "parse_interval"]

_logger = get_logger(__name__)

DEFAULT_INTERVAL_S = 5.0
"""Seconds between two heartbeats, unless the runner asks for another interval."""

FIRST_BEAT_S = 1.0
"""The first heartbeat comes this long after the start (or one interval, if shorter): a
trial that ends sooner needs none, and trial start-up does not pay for a second connection."""

STOP_WAIT_S = 1.0
"""How long stopping waits for a heartbeat write in progress (e.g. on a locked database)."""


def parse_interval(raw: str | None, name: str) -> float:
    """Return the heartbeat interval from the environment value ``raw``, or the default.

    A value that is not a positive number is logged and replaced by the default: a bad
    variable must not stop a trial that would otherwise run.
    """
    if raw is None or raw == "":
        return DEFAULT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        _logger.warning(
            "%s=%r is not a positive number of seconds; using %s", name, raw, DEFAULT_INTERVAL_S
        )
        return DEFAULT_INTERVAL_S
    return value


def _describe(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Heartbeat:
    """Stamps one trial's heartbeat from a daemon thread with its own connection.

    Args:
        channel: The trial process's channel to the store.
        number: The trial's number.
        interval: Seconds between two heartbeats.
    """

    def __init__(self, channel: TrialChannel, number: int, interval: float) -> None:
        self.channel = channel
        self.number = number
        self.interval = interval
        self.beats = 0
        self._stopped = threading.Event()
        self._warned = False
        self._writing = False
        self._host = os.uname().nodename
        self._thread = threading.Thread(
            target=self._run, name=f"sherpa-heartbeat-{number}", daemon=True
        )

    def start(self) -> None:
        """Start beating, from the thread: the first heartbeat comes after ``FIRST_BEAT_S``."""
        self._thread.start()

    @property
    def is_alive(self) -> bool:
        """Whether the thread still beats."""
        return self._thread.is_alive()

    def stop(self, *, only_if_writing: bool = False) -> None:
        """Stop beating, waiting up to ``STOP_WAIT_S`` for the thread to end.

        Args:
            only_if_writing: Wait only while a heartbeat is being written (at interpreter
                exit: an idle daemon thread needs no wait, and a trial's exit stays fast).
        """
        self._stopped.set()
        if not self._thread.is_alive() or self._thread is threading.current_thread():
            return
        if self._writing or not only_if_writing:
            self._thread.join(STOP_WAIT_S)

    def _run(self) -> None:
        executor: Executor | None = None
        try:
            self._stopped.wait(min(FIRST_BEAT_S, self.interval))
            while not self._stopped.is_set():
                self._writing = True
                try:
                    if executor is None:
                        executor = self.channel.open_for_thread()
                    still_open = self.channel.record_heartbeat(
                        executor, self.number, self._host, os.getpid()
                    )
                except Exception as exc:  # nothing may reach the trial script
                    self._report(exc)
                else:
                    if not still_open:
                        _logger.debug("trial %d has ended; heartbeat stops", self.number)
                        return
                    self.beats += 1
                finally:
                    self._writing = False
                self._stopped.wait(self.interval)
        finally:
            if executor is not None:
                self._close(executor)

    def _report(self, exc: Exception) -> None:
        if self._stopped.is_set():
            return  # the store may be closing under a heartbeat that was told to stop
        if self._warned:
            _logger.debug("trial %d: heartbeat not written: %s", self.number, _describe(exc))
            return
        self._warned = True
        _logger.warning(
            "trial %d: heartbeat not written to the store (%s); trying again every %g s "
            "(logged once). If this lasts, the runner may take the trial for lost.",
            self.number,
            _describe(exc),
            self.interval,
        )

    def _close(self, executor: Executor) -> None:
        try:
            self.channel.release(executor)
        except Exception as exc:  # closing must not raise in the trial either
            _logger.debug("trial %d: closing the heartbeat connection: %s", self.number, exc)
