"""Observations written from a background thread, for trials that must not wait for the store.

With ``sherpa.Client(synchronous=False)``, :meth:`sherpa.Client.send_metrics` checks its
arguments, puts the observation in a queue and returns; a daemon thread of the trial process
(:class:`BackgroundWriter`) stores what has queued up, all of it in one transaction (on
PostgreSQL one round trip), and again as soon as more arrives. What the store refuses (an
iteration already stored, a trial the runner has ended) or a store that cannot be reached is
raised by the next call that the trial script makes: ``send_metrics``, ``flush`` or
``close``. At interpreter exit the queue is flushed.
"""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING

from sherpa.exceptions import StorageError, StorageUnreachableError
from sherpa.logging import get_logger
from sherpa.storage._statements import PendingObservation, insert_observations
from sherpa.storage._urls import describe_error, display_url

if TYPE_CHECKING:
    from sherpa.storage._channel import TrialChannel
    from sherpa.storage._statements import Executor

__all__ = ["MAX_BATCH", "MAX_QUEUED", "BackgroundWriter"]

_logger = get_logger(__name__)

MAX_QUEUED = 10_000
"""At most this many observations wait; ``send_metrics`` waits for room beyond that."""

MAX_BATCH = 500
"""At most this many observations are written in one transaction."""

EXIT_FLUSH_S = 30.0
"""How long the interpreter's exit waits for queued observations to be stored."""


class BackgroundWriter:
    """Stores a trial process's observations from a daemon thread, in batches.

    Args:
        channel: The trial process's channel to the store.
    """

    def __init__(self, channel: TrialChannel) -> None:
        self.channel = channel
        self._queue: collections.deque[PendingObservation] = collections.deque()
        self._in_flight = 0
        self._errors: list[Exception] = []
        self._closing = False
        self._condition = threading.Condition()
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="sherpa-metrics", daemon=True)
        self._thread.start()
        # Stores what is queued when the interpreter exits (daemon threads are not waited for).
        self._exit_hook = weakref.finalize(self, _flush_at_exit, weakref.ref(self))

    def put(self, observation: PendingObservation) -> None:
        """Queue ``observation``, then raise what the store refused since the last call.

        The observation is queued even then: the error names the earlier one that was not
        stored. Waits while ``MAX_QUEUED`` observations are queued.

        Args:
            observation: The observation to store.

        Raises:
            RuntimeError: the writer is closed, or belongs to the process this one forked
                from.
        """
        self._check_process()
        with self._condition:
            if self._closing:
                raise RuntimeError("Client.send_metrics: the client is closed")
            while len(self._queue) >= MAX_QUEUED and self._thread.is_alive():
                self._condition.wait(0.1)
            self._queue.append(observation)
            self._condition.notify_all()
            self._raise_errors()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued observation is stored or refused; raise the first refusal.

        Args:
            timeout: At most this many seconds; None (or more than the platform can wait)
                waits as long as it takes.

        Raises:
            TimeoutError: observations are still waiting after ``timeout`` seconds.
        """
        self._check_process()
        if timeout is not None and timeout >= threading.TIMEOUT_MAX:
            timeout = None  # as long as it takes
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while (self._queue or self._in_flight) and self._thread.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    waiting = len(self._queue) + self._in_flight
                    raise TimeoutError(
                        f"Client.flush: {waiting} observations not stored after {timeout} s"
                    )
                self._condition.wait(left)
            self._raise_errors()

    def close(self, timeout: float | None = None) -> bool:
        """Flush, then end the thread; raise the first refusal, like :meth:`flush`.

        After a timeout the queued observations are dropped (the error says how many); one
        batch may still be in the store's hands, and the thread ends once it has its answer.

        Args:
            timeout: At most this many seconds for the queue; None waits as long as it takes.

        Returns:
            Whether the thread has ended (False: it still waits for the store).
        """
        try:
            self.flush(timeout)
        except TimeoutError:
            with self._condition:
                dropped = len(self._queue)
                self._queue.clear()
            raise TimeoutError(
                f"Client.close: {dropped + self._in_flight} observations not stored after "
                f"{timeout} s; the {dropped} still queued were dropped"
            ) from None
        finally:
            with self._condition:
                self._closing = True
                self._condition.notify_all()
            if self._thread is not threading.current_thread():
                self._thread.join(1.0)
            self._exit_hook.detach()
        return not self._thread.is_alive()

    @property
    def is_alive(self) -> bool:
        """Whether the thread still runs (it may wait for the store after a timed-out close)."""
        return self._thread.is_alive()

    def _check_process(self) -> None:
        if os.getpid() != self._pid:  # the writer thread stayed in the parent
            raise RuntimeError(
                "Client: this client was made with synchronous=False in another process "
                f"(pid {self._pid}), before a fork; make a new sherpa.Client in this one"
            )

    def _raise_errors(self) -> None:
        if not self._errors:
            return
        first, *others = self._errors
        self._errors.clear()
        if others:  # one line, however many: a finished trial may have sent thousands
            _logger.error(
                "%d more observations were not stored; the last: %s", len(others), others[-1]
            )
        raise first

    def _run(self) -> None:
        executor: Executor | None = None
        try:
            while True:
                with self._condition:
                    while not self._queue and not self._closing:
                        self._condition.wait()
                    if not self._queue:
                        return
                    batch = [
                        self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))
                    ]
                    self._in_flight = len(batch)
                    self._condition.notify_all()
                errors: list[Exception] = []
                try:
                    if executor is None:
                        executor = self.channel.open_for_thread()
                    refused = insert_observations(executor, self.channel.study_id, batch)
                    errors.extend(reason for _, reason in refused)
                except Exception as exc:  # the trial script raises it at its next call
                    errors.append(self._batch_failed(batch, exc))
                with self._condition:
                    self._errors.extend(errors)
                    self._in_flight = 0
                    self._condition.notify_all()
        finally:
            if executor is not None:
                try:
                    self.channel.release(executor)
                except Exception as exc:  # nothing may escape the thread
                    _logger.debug("closing the metrics connection: %s", exc)

    def _batch_failed(self, batch: list[PendingObservation], exc: Exception) -> StorageError:
        """The error of a batch the store did not take at all, naming what was lost."""
        lost = []
        for number in sorted({observation.number for observation in batch}):
            iterations = [o.iteration for o in batch if o.number == number]
            lost.append(f"trial {number}, {_describe_iterations(iterations)}")
        reason = describe_error(exc)
        if not isinstance(exc, StorageError):
            reason = f"store {display_url(self.channel.url)!r}: {type(exc).__name__}: {reason}"
        kind = (
            StorageUnreachableError if isinstance(exc, StorageUnreachableError) else StorageError
        )
        error = kind(f"{len(batch)} observations not stored ({'; '.join(lost)}): {reason}")
        error.__cause__ = exc
        return error

    def _flush_at_exit(self) -> None:
        if os.getpid() != self._pid:  # a forked child: the thread is the parent's
            return
        try:
            self.close(EXIT_FLUSH_S)
        except Exception as exc:  # at exit there is nobody left to raise to
            _logger.error("Client, at interpreter exit: %s", exc)


def _describe_iterations(iterations: list[int]) -> str:
    """``iteration 4``, ``iterations 1 to 500`` (a run), or the list, shortened past ten."""
    if len(iterations) == 1:
        return f"iteration {iterations[0]}"
    if iterations == list(range(iterations[0], iterations[0] + len(iterations))):
        return f"iterations {iterations[0]} to {iterations[-1]}"
    shown = ", ".join(map(str, iterations[:10]))
    more = f" and {len(iterations) - 10} more" if len(iterations) > 10 else ""
    return f"iterations {shown}{more}"


def _flush_at_exit(ref: weakref.ReferenceType[BackgroundWriter]) -> None:
    writer = ref()
    if writer is not None:
        writer._flush_at_exit()
