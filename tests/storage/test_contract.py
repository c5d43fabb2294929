"""The storage contract: every backend must pass these (an SQLite file and PostgreSQL)."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import sherpa
from sherpa.exceptions import (
    DuplicateObservationError,
    StorageError,
    StorageUnreachableError,
    TrialFinishedError,
    UnknownTrialError,
)
from sherpa.storage import HeartbeatRecord, SQLStorage, sqlite_url
from sherpa.storage._channel import TrialChannel
from sherpa.storage._sql import ObservationCursor
from sherpa.storage._statements import _INSERT_OBSERVATION
from sherpa.trial import TrialStatus


@pytest.fixture
def storage(url: str) -> Iterator[SQLStorage]:
    store = SQLStorage(url)
    yield store
    store.close()


def _study(storage: SQLStorage, name: str = "s") -> int:
    return storage.create_study(name, lower_is_better=True, parameters=[{"name": "x"}]).id


def test_schema_is_versioned(storage: SQLStorage) -> None:
    assert storage.schema_version == 2


def test_study_names_are_unique(storage: SQLStorage) -> None:
    _study(storage, "a")
    with pytest.raises(StorageError, match="already has a study named 'a'"):
        _study(storage, "a")
    assert storage.get_study("a").parameters == [{"name": "x"}]
    with pytest.raises(StorageError, match="no study named 'b'"):
        storage.get_study("b")


def test_trials_round_trip(storage: SQLStorage) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {"x": 0.5, "layers": [1, 2], "name": "a b"})
    storage.set_job_id(study_id, 1, "123")
    storage.create_trial(study_id, 2, {"x": 1.5})
    storage.finalize_trial(study_id, 2, TrialStatus.FAILED)
    first, second = storage.read_trials(study_id)
    assert (first.number, first.parameters, first.status, first.job_id) == (
        1,
        {"x": 0.5, "layers": [1, 2], "name": "a b"},
        TrialStatus.INTERMEDIATE,
        "123",
    )
    assert second.status is TrialStatus.FAILED and second.finished_at is not None
    with pytest.raises(StorageError, match="already has a trial 1"):
        storage.create_trial(study_id, 1, {})
    with pytest.raises(UnknownTrialError, match="trial 9 does not exist"):
        storage.finalize_trial(study_id, 9, TrialStatus.COMPLETED)


def test_parameters_must_be_json(storage: SQLStorage) -> None:
    with pytest.raises(TypeError, match="trial 1: parameters must be JSON-serializable"):
        storage.create_trial(_study(storage), 1, {"f": object()})


def test_observations_are_read_incrementally(storage: SQLStorage) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.add_observation(study_id, 1, 1, 0.5, {"acc": 0.9})
    storage.add_observation(study_id, 1, 2, float("nan"), {})
    everything = storage.read_observations(study_id)
    assert [(o.trial_number, o.iteration, o.context) for o in everything] == [
        (1, 1, {"acc": 0.9}),
        (1, 2, {}),
    ]
    assert everything[0].objective == 0.5 and math.isnan(everything[1].objective)
    storage.add_observation(study_id, 1, 3, 0.25, {})
    new = storage.read_observations(study_id, after_id=everything[-1].id)
    assert [(o.iteration, o.objective) for o in new] == [(3, 0.25)]


def test_observation_rules(storage: SQLStorage) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.add_observation(study_id, 1, 1, 0.5, {})
    with pytest.raises(DuplicateObservationError, match=r"trial 1 already has .* iteration 1"):
        storage.add_observation(study_id, 1, 1, 0.7, {})
    with pytest.raises(UnknownTrialError, match="trial 2 does not exist"):
        storage.add_observation(study_id, 2, 1, 0.7, {})
    storage.finalize_trial(study_id, 1, TrialStatus.STOPPED)
    with pytest.raises(TrialFinishedError, match="trial 1 is already STOPPED"):
        storage.add_observation(study_id, 1, 2, 0.7, {})
    assert len(storage.read_observations(study_id)) == 1


def test_studies_do_not_share_trials(storage: SQLStorage) -> None:
    first, second = _study(storage, "a"), _study(storage, "b")
    storage.create_trial(first, 1, {"x": 1})
    storage.create_trial(second, 1, {"x": 2})
    storage.add_observation(second, 1, 1, 3.0, {})
    assert storage.read_observations(first) == []
    assert [t.parameters for t in storage.read_trials(second)] == [{"x": 2}]


def test_stop_requests(storage: SQLStorage) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.create_trial(study_id, 2, {})
    storage.request_stop(study_id, 2)
    assert storage.stop_requested(study_id) == {2}
    storage.finalize_trial(study_id, 2, TrialStatus.STOPPED)
    assert storage.stop_requested(study_id) == set()


def test_trial_channel_shares_the_store(storage: SQLStorage, url: str) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {"x": 0.1})
    channel = TrialChannel(url, study_id)
    assert channel.get_parameters(1) == {"x": 0.1}
    channel.add_observation(1, 1, 0.3, {"k": [1, 2]})
    with pytest.raises(DuplicateObservationError):
        channel.add_observation(1, 1, 0.3, {})
    with pytest.raises(UnknownTrialError):
        channel.get_parameters(5)
    channel.close()
    [record] = storage.read_observations(study_id)
    assert (record.objective, record.context) == (0.3, {"k": [1, 2]})


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    SQLStorage(sqlite_url(tmp_path / "sherpa.db")).close()
    mode = sqlite3.connect(tmp_path / "sherpa.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_trial_side_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "sherpa.db"
    with pytest.raises(StorageUnreachableError, match=r"there is no file .*nope/sherpa.db"):
        TrialChannel(sqlite_url(missing), 1)
    assert not missing.exists()


def test_runner_side_creates_the_directory(tmp_path: Path) -> None:
    SQLStorage(sqlite_url(tmp_path / "new" / "dir" / "sherpa.db")).close()
    assert (tmp_path / "new" / "dir" / "sherpa.db").is_file()


def test_a_file_that_is_no_database_is_reported(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text("Trial-ID,Status\n1,COMPLETED\n")
    with pytest.raises(StorageUnreachableError, match="cannot be opened as a sherpa store"):
        SQLStorage(sqlite_url(tmp_path / "results.csv"))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sherpa.db")
    SQLStorage(url).close()
    with sqlite3.connect(tmp_path / "sherpa.db") as conn:
        conn.execute("UPDATE sherpa_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 99, newer than"):
        SQLStorage(url)


def test_path_with_space(tmp_path: Path) -> None:
    folder = tmp_path / "a dir"
    folder.mkdir()
    url = sqlite_url(folder / "sherpa.db")
    storage = SQLStorage(url)
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    TrialChannel(url, study_id).add_observation(1, 1, 1.0, {})
    assert len(storage.read_observations(study_id)) == 1


def test_has_changed_sees_other_writers(storage: SQLStorage, url: str) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.has_changed()
    assert storage.has_changed() is False or not url.startswith("sqlite")
    TrialChannel(url, study_id).add_observation(1, 1, 0.5, {})
    assert storage.has_changed() is True


def test_cursor_reads_each_observation_once(storage: SQLStorage) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    cursor = ObservationCursor()
    storage.add_observation(study_id, 1, 1, 0.5, {})
    storage.add_observation(study_id, 1, 2, 0.4, {})
    assert [o.iteration for o in storage.read_new_observations(study_id, cursor)] == [1, 2]
    assert storage.read_new_observations(study_id, cursor) == []
    storage.add_observation(study_id, 1, 3, 0.3, {})
    assert [o.iteration for o in storage.read_new_observations(study_id, cursor)] == [3]


def test_cursor_sees_observations_committed_out_of_id_order(postgres_url: str) -> None:
    storage = SQLStorage(postgres_url)
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.create_trial(study_id, 2, {})
    cursor = ObservationCursor()
    params = {"study_id": study_id, "number": 1, "iteration": 1, "objective": 0.1}
    params.update(context="{}", created_at=0.0)
    slow = sa.create_engine(postgres_url)
    with slow.connect() as held:
        held.execute(sa.text(_INSERT_OBSERVATION), params)  # takes an id, does not commit
        storage.add_observation(study_id, 2, 1, 0.2, {})  # the next id, committed at once
        first = storage.read_new_observations(study_id, cursor)
        held.commit()
    second = storage.read_new_observations(study_id, cursor)
    slow.dispose()
    assert [o.trial_number for o in first] == [2]
    assert [o.trial_number for o in second] == [1]
    assert second[0].id < first[0].id  # the row a read "after the last id" would skip
    assert storage.read_observations(study_id, after_id=first[0].id) == []
    assert storage.read_new_observations(study_id, cursor) == []
    storage.close()


def test_server_store_errors_name_host_and_port_not_password() -> None:
    url = "postgresql+psycopg://someone:s3cret-pw@127.0.0.1:1/db"
    with pytest.raises(StorageUnreachableError, match=r"host '127\.0\.0\.1', port 1\b") as caught:
        SQLStorage(url)
    assert "s3cret-pw" not in str(caught.value) and "someone:***@" in str(caught.value)
    with pytest.raises(StorageUnreachableError, match=r"host '127\.0\.0\.1', port 1\b"):
        TrialChannel(url, 1)
    with pytest.raises(StorageUnreachableError, match="is not a valid database URL"):
        SQLStorage("postgresql+psycopg://u:pw@127.0.0.1:notaport/db")


def test_client_host_and_port_override(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SQLStorage(postgres_url)
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {"x": 2})
    url = sa.make_url(postgres_url)
    wrong = url.set(host="localhost.invalid", port=1).render_as_string(hide_password=False)
    monkeypatch.setenv("SHERPA_TRIAL_ID", "1")
    client = sherpa.Client(host=url.host, port=url.port, db_url=wrong, study_id=study_id)
    client.send_metrics(client.get_trial(), iteration=1, objective=4.0)
    client.close()
    assert [o.objective for o in storage.read_observations(study_id)] == [4.0]
    storage.close()


TRIAL_SCRIPT = """\
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for i in range(1, 4):
    client.send_metrics(trial, iteration=i, objective=trial.parameters["x"] * i,
                        context={"double": 2 * i})
"""


def test_trial_process_writes_to_the_store(url: str, tmp_path: Path) -> None:
    storage = SQLStorage(url)
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {"x": 0.5})
    (tmp_path / "trial.py").write_text(TRIAL_SCRIPT)
    env = {**os.environ, "SHERPA_DB_URL": url, "SHERPA_STUDY_ID": str(study_id)}
    env["SHERPA_TRIAL_ID"] = "1"
    subprocess.run([sys.executable, str(tmp_path / "trial.py")], env=env, check=True)
    observations = storage.read_observations(study_id)
    assert [(o.iteration, o.objective, o.context) for o in observations] == [
        (1, 0.5, {"double": 2}),
        (2, 1.0, {"double": 4}),
        (3, 1.5, {"double": 6}),
    ]
    storage.close()


# Heartbeats and schema migration


def _beat(channel: TrialChannel, number: int, pid: int = 4242) -> bool:
    executor = channel.open_for_thread()
    try:
        return channel.record_heartbeat(executor, number, "node-a", pid)
    finally:
        channel.release(executor)


def test_heartbeat_is_stamped_with_the_database_clock(storage: SQLStorage, url: str) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    storage.create_trial(study_id, 2, {})
    assert storage.read_heartbeats(study_id) == {}
    channel = TrialChannel(url, study_id)
    before = storage.database_time()
    assert _beat(channel, 1) is True
    after = storage.database_time()
    [(number, beat)] = storage.read_heartbeats(study_id).items()
    assert (number, beat.host, beat.pid) == (1, "node-a", 4242)
    assert before - 0.002 <= beat.at <= after + 0.002  # SQLite's clock has 1 ms steps
    assert abs(beat.at - time.time()) < 5  # UTC seconds since the epoch, like time.time()
    time.sleep(0.01)
    assert _beat(channel, 1, pid=4343) is True
    second = storage.read_heartbeats(study_id)[1]
    assert second.at > beat.at and second.pid == 4343
    trial = storage.read_trials(study_id)[0]
    assert (trial.heartbeat_at, trial.host, trial.pid) == (second.at, "node-a", 4343)
    storage.finalize_trial(study_id, 1, TrialStatus.FAILED)
    assert _beat(channel, 1) is False  # an ended trial takes no heartbeat
    assert _beat(channel, 9) is False
    assert storage.read_heartbeats(study_id) == {}
    assert storage.read_trials(study_id)[0].heartbeat_at == second.at
    channel.close()


HEARTBEAT_SCRIPT = """\
import sys, time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
client.send_metrics(trial, iteration=1, objective=1.0)
deadline = time.monotonic() + float(sys.argv[1])
total = 0
while time.monotonic() < deadline:  # pure-Python work between two metrics
    total += sum(i * i for i in range(1000))
client.send_metrics(trial, iteration=2, objective=2.0)
"""


def test_trial_process_heartbeat_advances_during_a_long_computation(
    storage: SQLStorage, url: str, tmp_path: Path
) -> None:
    study_id = _study(storage)
    storage.create_trial(study_id, 1, {})
    (tmp_path / "trial.py").write_text(HEARTBEAT_SCRIPT)
    env = {**os.environ, "SHERPA_DB_URL": url, "SHERPA_STUDY_ID": str(study_id)}
    env.update(SHERPA_TRIAL_ID="1", SHERPA_HEARTBEAT_INTERVAL="0.1")
    process = subprocess.Popen([sys.executable, str(tmp_path / "trial.py"), "2.0"], env=env)
    between_metrics: list[HeartbeatRecord] = []
    while process.poll() is None:
        beat = storage.read_heartbeats(study_id).get(1)
        if len(storage.read_observations(study_id)) == 1 and beat is not None:
            between_metrics.append(beat)
        time.sleep(0.05)
    assert process.returncode == 0
    values = sorted({b.at for b in between_metrics})
    assert len(values) >= 8, values  # 2 s of computation at one beat per 0.1 s
    assert all(b - a < 1.0 for a, b in itertools.pairwise(values)), values
    assert {(b.host, b.pid) for b in between_metrics} == {(os.uname().nodename, process.pid)}
    last = storage.read_heartbeats(study_id)[1].at
    time.sleep(0.3)
    assert storage.read_heartbeats(study_id)[1].at == last  # the beat ended with the process
    assert [o.iteration for o in storage.read_observations(study_id)] == [1, 2]


def _create_v1_store(url: str) -> None:
    """A store as sherpa 0.1 wrote it: schema version 1, with a study, a trial, a metric."""
    v1 = sa.MetaData()
    sa.Table(
        "sherpa_meta",
        v1,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "sherpa_studies",
        v1,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("lower_is_better", sa.Boolean, nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "sherpa_trials",
        v1,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("sherpa_studies.id"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("job_id", sa.String(255)),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
        sa.UniqueConstraint("study_id", "number", name="uq_sherpa_trials_study_number"),
    )
    sa.Table(
        "sherpa_observations",
        v1,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("sherpa_studies.id"), nullable=False),
        sa.Column("trial_id", sa.Integer, sa.ForeignKey("sherpa_trials.id"), nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("objective", sa.Float),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint(
            "trial_id", "iteration", name="uq_sherpa_observations_trial_iteration"
        ),
        sa.Index("ix_sherpa_observations_study_id", "study_id", "id"),
    )
    engine = sa.create_engine(url)
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO sherpa_meta VALUES ('schema_version', '1')"))
        conn.execute(
            sa.text(
                "INSERT INTO sherpa_studies (name, lower_is_better, parameters, created_at) "
                "VALUES ('old', :true, '[]', 1.0)"
            ),
            {"true": True},
        )
        for number, status in ((1, "COMPLETED"), (2, "INTERMEDIATE")):
            conn.execute(
                sa.text(
                    "INSERT INTO sherpa_trials (study_id, number, parameters, status, "
                    "created_at, job_id, stop_requested) "
                    "VALUES (1, :number, '{\"x\": 1}', :status, 2.0, '77', :false)"
                ),
                {"number": number, "status": status, "false": False},
            )
        conn.execute(
            sa.text(
                "INSERT INTO sherpa_observations (study_id, trial_id, iteration, objective, "
                "context, created_at) VALUES (1, 1, 1, 0.5, '{}', 3.0)"
            )
        )
    engine.dispose()


def _columns(url: str) -> set[str]:
    engine = sa.create_engine(url)
    names = {c["name"] for c in sa.inspect(engine).get_columns("sherpa_trials")}
    engine.dispose()
    return names


def test_a_version_1_store_is_upgraded_on_open(
    url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    _create_v1_store(url)
    assert {"host", "pid"} - _columns(url) == {"host", "pid"}
    storage = SQLStorage(url)
    assert storage.schema_version == 2
    assert {"heartbeat_at", "host", "pid"} <= _columns(url)
    assert "schema upgraded from version 1 to 2" in capfd.readouterr().err
    study = storage.get_study("old")
    first, second = storage.read_trials(study.id)
    assert (first.number, first.status, first.job_id, first.parameters) == (
        1,
        TrialStatus.COMPLETED,
        "77",
        {"x": 1},
    )
    assert (first.heartbeat_at, first.host, first.pid) == (None, None, None)
    assert (second.number, second.status) == (2, TrialStatus.INTERMEDIATE)
    assert [(o.trial_number, o.objective) for o in storage.read_observations(study.id)] == [
        (1, 0.5)
    ]
    channel = TrialChannel(url, study.id)  # the trial side works on the upgraded store
    assert _beat(channel, 2) is True
    channel.add_observation(2, 1, 0.25, {})
    channel.close()
    assert storage.read_heartbeats(study.id)[2].host == "node-a"
    storage.close()
    again = SQLStorage(url)  # opening it again changes nothing
    assert again.schema_version == 2
    assert "schema upgraded" not in capfd.readouterr().err
    again.close()


def _open_at_once(url: str, count: int) -> list[SQLStorage]:
    """Open ``url`` from ``count`` threads released together; fail on any error."""
    opened: list[SQLStorage] = []
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def open_store() -> None:
        start.wait()
        try:
            opened.append(SQLStorage(url))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    assert errors == []
    return opened


def test_a_version_1_store_opened_by_many_at_once_is_upgraded_once(
    url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    _create_v1_store(url)
    opened = _open_at_once(url, 4)
    assert [s.schema_version for s in opened] == [2, 2, 2, 2]
    assert capfd.readouterr().err.count("schema upgraded from version 1 to 2") == 1
    again = SQLStorage(url)
    assert again.get_study("old").name == "old"
    again.close()


def test_a_new_store_opened_by_many_at_once_is_created_once(url: str, tmp_path: Path) -> None:
    urls = (
        [url]
        if url.startswith("postgresql")
        else [sqlite_url(tmp_path / f"new{number}" / "sherpa.db") for number in range(5)]
    )
    for each in urls:
        _open_at_once(each, 8)
        storage = SQLStorage(each)
        assert storage.schema_version == 2
        _study(storage)
        assert [s.name for s in storage.list_studies()] == ["s"]
        storage.close()


def test_a_rollback_journal_sqlite_file_is_put_in_wal_mode_once_its_writer_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleep = time.sleep
    path = tmp_path / "old.db"
    _create_v1_store(sqlite_url(path))
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    writer.execute("BEGIN IMMEDIATE")  # SQLite refuses the switch to WAL at once, not waiting
    release = threading.Timer(0.3, writer.execute, ("COMMIT",))
    pauses: list[float] = []
    monkeypatch.setattr(sherpa.storage._sql.time, "sleep", lambda s: pauses.append(s) or sleep(s))
    release.start()
    try:
        storage = SQLStorage(sqlite_url(path))
    finally:
        release.join()
        writer.close()
    assert pauses  # the switch was refused at first and tried again
    assert storage.schema_version == 2
    storage.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
