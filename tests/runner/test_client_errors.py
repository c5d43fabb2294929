"""Trial-side errors: a trial process that cannot find or open its store says why."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import sherpa
from sherpa.exceptions import StorageUnreachableError, UnknownTrialError

PROBE_TRIAL = """\
import json

import sherpa

try:
    client = sherpa.Client()
    client.get_trial()
except Exception as exc:
    print(json.dumps([type(exc).__module__, type(exc).__qualname__, str(exc)]))
else:
    print(json.dumps(None))
"""


@pytest.mark.parametrize(
    ("env", "error", "fragments"),
    [
        ({}, "StorageUnreachableError", ["SHERPA_DB_URL", "is not set"]),
        (
            {"SHERPA_DB_URL": "sqlite:///{tmp}/missing.db", "SHERPA_STUDY_ID": "1"},
            "StorageUnreachableError",
            ["there is no file '{tmp}/missing.db'"],
        ),
        (
            {"SHERPA_DB_URL": "sqlite:///{tmp}/missing.db"},
            "StorageUnreachableError",
            ["SHERPA_STUDY_ID", "is not set"],
        ),
    ],
    ids=["no-db-url", "missing-file", "no-study-id"],
)
def test_client_in_trial_process_names_what_is_missing(
    write_script: Callable[..., Path],
    run_python: Callable[..., subprocess.CompletedProcess[str]],
    clean_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    env: dict[str, str],
    error: str,
    fragments: list[str],
) -> None:
    script = write_script(PROBE_TRIAL)
    done = run_python(
        script,
        cwd=tmp_path,
        env=clean_env(**{k: v.format(tmp=tmp_path) for k, v in env.items()}),
    )
    assert done.returncode == 0, done.stderr
    module, name, message = json.loads(done.stdout)
    assert (module, name) == ("sherpa.exceptions", error)
    for fragment in fragments:
        assert fragment.format(tmp=tmp_path) in message, message
    assert not (tmp_path / "missing.db").exists()  # the client never creates a store


def test_client_without_db_url_raises_storage_unreachable() -> None:
    with pytest.raises(StorageUnreachableError, match=r"SHERPA_DB_URL is not set"):
        sherpa.Client()


def test_client_with_missing_sqlite_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "sherpa.db"
    monkeypatch.setenv("SHERPA_DB_URL", sherpa.storage.sqlite_url(missing))
    monkeypatch.setenv("SHERPA_STUDY_ID", "1")
    with pytest.raises(StorageUnreachableError, match=rf"there is no file '{missing}'"):
        sherpa.Client()


def test_client_get_trial_names_a_missing_or_bad_trial_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = sherpa.storage.SQLStorage(sherpa.storage.sqlite_url(tmp_path / "sherpa.db"))
    storage.close()
    monkeypatch.setenv("SHERPA_DB_URL", storage.url)
    monkeypatch.setenv("SHERPA_STUDY_ID", "1")
    client = sherpa.Client()
    try:
        with pytest.raises(StorageUnreachableError, match=r"SHERPA_TRIAL_ID is not set"):
            client.get_trial()
        monkeypatch.setenv("SHERPA_TRIAL_ID", "5")
        with pytest.raises(UnknownTrialError, match=r"trial 5 does not exist in study 1"):
            client.get_trial()
        monkeypatch.setenv("SHERPA_TRIAL_ID", "five")
        with pytest.raises(ValueError, match=r"SHERPA_TRIAL_ID must be an integer; got 'five'"):
            client.get_trial()
    finally:
        client.close()
