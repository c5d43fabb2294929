"""send_metrics with synchronous=False: the background writer, on every backend."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sherpa
from sherpa.exceptions import (
    DuplicateObservationError,
    StorageUnreachableError,
    TrialFinishedError,
)
from sherpa.storage import SQLStorage, sqlite_url
from sherpa.storage._channel import TrialChannel
from sherpa.storage._statements import PendingObservation, insert_observations
from sherpa.storage._urls import sqlite_path
from sherpa.storage._writer import _describe_iterations
from sherpa.trial import TrialStatus


@pytest.fixture
def store(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SQLStorage]:
    storage = SQLStorage(url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {"x": 0.5})
    monkeypatch.setenv("SHERPA_DB_URL", url)
    monkeypatch.setenv("SHERPA_STUDY_ID", str(study_id))
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    yield storage
    storage.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SQLStorage]:
    """A study with trial 1 in an SQLite file, and the trial's environment set."""
    url = sqlite_url(tmp_path / "sherpa.db")
    storage = SQLStorage(url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    monkeypatch.setenv("SHERPA_DB_URL", url)
    monkeypatch.setenv("SHERPA_STUDY_ID", str(study_id))
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    yield storage
    storage.close()


@contextlib.contextmanager
def writes_held(storage: SQLStorage) -> Iterator[sqlite3.Connection]:
    """Hold an SQLite store's write lock: the metric writer waits until the block ends."""
    with contextlib.closing(
        sqlite3.connect(sqlite_path(storage.url), isolation_level=None)
    ) as holder:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
        if holder.in_transaction:
            holder.execute("COMMIT")


def _stored(store: SQLStorage) -> list[tuple[int, float, dict[str, object]]]:
    study_id = store.get_study("s").id
    return [(o.iteration, o.objective, o.context) for o in store.read_observations(study_id)]


def test_queued_metrics_are_all_stored_in_order_by_flush(store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    for iteration in range(1, 1201):  # more than one batch
        client.send_metrics(trial, iteration, iteration / 10, context={"i": iteration})
    client.send_metrics(trial, 1201, math.nan)
    client.flush()
    stored = _stored(store)
    assert [row[0] for row in stored] == list(range(1, 1202))
    assert stored[41] == (42, 4.2, {"i": 42})
    assert math.isnan(stored[-1][1])
    client.close()


def test_a_refused_metric_is_raised_once_by_flush_and_the_others_are_stored(
    sqlite_store: SQLStorage,
) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    with writes_held(sqlite_store):  # all three are queued before the writer stores any
        client.send_metrics(trial, 1, 0.1)
        client.send_metrics(trial, 1, 0.2)  # the store refuses it later
        client.send_metrics(trial, 2, 0.3)
    with pytest.raises(DuplicateObservationError, match="trial 1 already has an observation"):
        client.flush()
    assert _stored(sqlite_store) == [(1, 0.1, {}), (2, 0.3, {})]
    client.flush()  # raised once
    client.send_metrics(trial, 3, 0.4)
    client.close()
    assert _stored(sqlite_store)[-1] == (3, 0.4, {})


def test_a_refusal_is_raised_by_the_next_send_metrics(store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    store.finalize_trial(store.get_study("s").id, 1, TrialStatus.STOPPED)
    client.send_metrics(trial, 1, 0.1)
    writer = client._writer
    assert writer is not None
    deadline = time.monotonic() + 30
    while not writer._errors and time.monotonic() < deadline:  # the refusal, not raised yet
        time.sleep(0.01)
    with pytest.raises(TrialFinishedError, match="trial 1 is already STOPPED"):
        client.send_metrics(trial, 2, 0.2)
    with pytest.raises(TrialFinishedError, match="iteration 2 was not stored"):
        client.close()
    assert _stored(store) == []


def test_close_stores_the_queue_and_later_sends_are_refused(store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    for iteration in range(10):
        client.send_metrics(trial, iteration, 1.0)
    client.close()
    assert len(_stored(store)) == 10
    with pytest.raises(RuntimeError, match="the client is closed"):
        client.send_metrics(trial, 11, 1.0)


def test_exit_stores_what_is_queued(store: SQLStorage, tmp_path: Path) -> None:
    script = tmp_path / "trial.py"
    script.write_text(
        textwrap.dedent(
            """
            import sherpa
            client = sherpa.Client(synchronous=False)
            trial = client.get_trial()
            for iteration in range(1, 501):
                client.send_metrics(trial, iteration, iteration * 0.5)
            """
        )
    )
    subprocess.run([sys.executable, str(script)], env=os.environ, check=True, timeout=120)
    assert [row[0] for row in _stored(store)] == list(range(1, 501))


def test_flush_gives_up_after_its_timeout_while_the_store_is_locked(
    sqlite_store: SQLStorage,
) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    with writes_held(sqlite_store):  # the writer waits for the lock
        client.send_metrics(trial, 1, 0.5)
        with pytest.raises(TimeoutError, match=r"1 observations not stored after 0\.2 s"):
            client.flush(timeout=0.2)
    client.flush()
    assert [row[0] for row in _stored(sqlite_store)] == [1]
    client.close()


def test_bad_arguments_are_named(store: SQLStorage) -> None:
    with pytest.raises(TypeError, match="synchronous must be True or False; got 'no'"):
        sherpa.Client(synchronous="no")  # type: ignore[arg-type]
    client = sherpa.Client(synchronous=False)
    for bad in (-1, math.nan, "1", True):
        with pytest.raises(ValueError, match="timeout must be None or a number"):
            client.flush(timeout=bad)  # type: ignore[arg-type]
    client.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_is_told_to_make_its_own_client(store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    client.send_metrics(trial, 1, 0.5)
    client.flush()
    executor = client._channel._executor if client._channel is not None else None
    connection = getattr(executor, "_conn", None)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what send_metrics raised, closes, then leaves at once
        try:
            try:
                client.send_metrics(trial, 2, 0.5)
                message = "no error"
            except RuntimeError as exc:
                message = str(exc)
            client.close()  # must leave the parent's connection alone
        except BaseException as exc:  # never let the child go on running the tests
            message = f"close raised {exc!r}"
        finally:
            os.write(write, message.encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    assert "before a fork; make a new sherpa.Client in this one" in message
    client.send_metrics(trial, 3, 0.5)
    client.flush()
    assert getattr(executor, "_conn", None) is connection  # not lost, so not replaced
    client.close()
    assert [row[0] for row in _stored(store)] == [1, 3]


def test_a_batch_sent_again_after_its_commit_is_recognised_as_stored(
    store: SQLStorage, url: str
) -> None:
    # What a retry after a lost reply does: the same observations arrive a second time.
    study_id = store.get_study("s").id
    channel = TrialChannel(url, study_id)
    executor = channel.open_for_thread()
    batch = [PendingObservation(1, i, i / 2, {}, time.time()) for i in range(3)]
    assert insert_observations(executor, study_id, batch) == []
    assert insert_observations(executor, study_id, batch) == []
    other = PendingObservation(1, 1, 9.0, {}, time.time() + 1)
    [(refused, reason)] = insert_observations(executor, study_id, [other])
    assert refused is other and isinstance(reason, DuplicateObservationError)
    channel.release(executor)
    channel.close()
    assert [row[1] for row in _stored(store)] == [0.0, 0.5, 1.0]


def test_a_postgresql_connection_killed_between_batches_is_replaced_quietly(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    storage = SQLStorage(postgres_url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    monkeypatch.setenv("SHERPA_DB_URL", postgres_url)
    monkeypatch.setenv("SHERPA_STUDY_ID", str(study_id))
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    for round_ in range(5):
        for i in range(200):
            client.send_metrics(trial, round_ * 200 + i, 1.0)
        client.flush()
        with admin.connect() as conn:  # as a server restart or an administrator would
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    client.send_metrics(trial, 1000, 1.0)
    client.close()
    admin.dispose()
    # The runner's side finds its pooled connections dead too, and opens new ones.
    assert len(storage.read_observations(study_id)) == 1001
    storage.close()
    assert "error ignored" not in capfd.readouterr().err


def test_a_batch_whose_pipeline_fails_after_its_commit_is_sent_again_and_recognised(
    postgres_url: str,
) -> None:
    # psycopg may fail a pipeline's exit ("cannot exit pipeline mode while busy") without
    # marking the connection broken, after the batch committed.
    import psycopg

    from sherpa.storage._psycopg import PsycopgExecutor

    storage = SQLStorage(postgres_url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    executor = PsycopgExecutor(postgres_url)

    class FailsOnce:
        def __init__(self, conn: psycopg.Connection[Any]) -> None:
            self._conn, self.failed = conn, False

        def __getattr__(self, name: str) -> Any:
            return getattr(self._conn, name)

        @contextlib.contextmanager
        def pipeline(self) -> Iterator[Any]:
            with self._conn.pipeline() as pipeline:
                yield pipeline
            if not self.failed:
                self.failed = True
                raise psycopg.OperationalError("cannot exit pipeline mode while busy")

    flaky = FailsOnce(executor._conn)
    executor._conn = flaky
    batch = [PendingObservation(1, i, float(i), {}, time.time()) for i in range(5)]
    assert insert_observations(executor, study_id, batch) == []
    assert flaky.failed and executor._conn is not flaky
    assert [o.iteration for o in storage.read_observations(study_id)] == [0, 1, 2, 3, 4]
    executor.close()
    storage.close()


def test_a_batch_the_store_cannot_take_names_what_was_lost(sqlite_store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    sqlite_store.close()
    for path in Path(sqlite_path(sqlite_store.url)).parent.glob("sherpa.db*"):
        path.unlink()
    for iteration in (1, 2, 3, 7):
        client.send_metrics(trial, iteration, 0.5)
    with pytest.raises(
        StorageUnreachableError,
        match=r"^4 observations not stored \(trial 1, iterations 1, 2, 3, 7\): store .*not fou",
    ):
        client.flush()
    client.close()


@pytest.mark.parametrize(
    ("iterations", "expected"),
    [
        ([4], "iteration 4"),
        ([1, 2, 3], "iterations 1 to 3"),
        ([1, 3], "iterations 1, 3"),
        (list(range(0, 40, 2)), "iterations 0, 2, 4, 6, 8, 10, 12, 14, 16, 18 and 10 more"),
    ],
)
def test_lost_iterations_are_described_compactly(iterations: list[int], expected: str) -> None:
    assert _describe_iterations(iterations) == expected


def test_many_refusals_are_raised_once_and_logged_in_one_line(
    sqlite_store: SQLStorage, capfd: pytest.CaptureFixture[str]
) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    sqlite_store.finalize_trial(sqlite_store.get_study("s").id, 1, TrialStatus.COMPLETED)
    with writes_held(sqlite_store):  # all 50 are queued before the writer learns of any
        for iteration in range(50):
            client.send_metrics(trial, iteration, 0.5)
    with pytest.raises(TrialFinishedError, match="iteration 0 was not stored"):
        client.flush()
    err = capfd.readouterr().err
    assert err.count("[sherpa ERROR]") == 1
    assert "49 more observations were not stored; the last: trial 1 is already COMPLETED" in err
    client.close()


def test_flush_and_close_take_an_endless_or_bounded_timeout(sqlite_store: SQLStorage) -> None:
    client = sherpa.Client(synchronous=False)
    trial = client.get_trial()
    client.send_metrics(trial, 1, 0.5)
    client.flush(timeout=math.inf)
    with writes_held(sqlite_store):
        client.send_metrics(trial, 2, 0.5)
        with pytest.raises(TimeoutError, match=r"1 observations not stored after 0\.2 s"):
            client.close(timeout=0.2)
        with pytest.raises(RuntimeError, match="the client is closed"):
            client.send_metrics(trial, 3, 0.5)
    # The batch that was in the store's hands is stored once the store answers: the
    # connection was left to the writer, not closed under it.
    deadline = time.monotonic() + 30
    while len(_stored(sqlite_store)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [row[0] for row in _stored(sqlite_store)] == [1, 2]


def test_a_retry_is_recognised_even_when_the_server_rounds_floats_it_sends(
    postgres_url: str,
) -> None:
    # With extra_float_digits = 0 (the default before PostgreSQL 12) a double read back as
    # text is rounded; the check that a row is our own must not depend on reading it back.
    storage = SQLStorage(postgres_url)
    study_id = storage.create_study("s", lower_is_better=True, parameters=[]).id
    storage.create_trial(study_id, 1, {})
    rounding = postgres_url + ("&" if "?" in postgres_url else "?")
    channel = TrialChannel(rounding + "options=-c%20extra_float_digits%3D0", study_id)
    executor = channel.open_for_thread()
    assert executor.query("SHOW extra_float_digits", {}) == [("0",)]
    batch = [PendingObservation(1, i, 1 / 3 + i, {"k": i}, time.time() + i / 7) for i in range(50)]
    batch.append(PendingObservation(1, 50, math.nan, {}, time.time()))
    assert insert_observations(executor, study_id, batch) == []
    assert insert_observations(executor, study_id, batch) == []
    channel.close()
    storage.close()


def test_a_server_error_is_not_reported_as_an_unreachable_server(postgres_url: str) -> None:
    from sherpa.exceptions import StorageError
    from sherpa.storage._psycopg import PsycopgExecutor

    timing_out = postgres_url + ("&" if "?" in postgres_url else "?")
    executor = PsycopgExecutor(timing_out + "options=-c%20statement_timeout%3D50")
    connection = executor._conn
    with pytest.raises(StorageError, match="canceling statement due to statement timeout") as info:
        executor.query("SELECT pg_sleep(1)", {})
    assert not isinstance(info.value, StorageUnreachableError)
    assert executor._conn is connection  # a healthy connection is kept
    assert executor.query("SELECT 1", {}) == [(1,)]
    executor.close()
