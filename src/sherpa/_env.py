"""The environment variables through which the runner tells a trial process where it is."""

from __future__ import annotations

__all__ = [
    "DB_URL",
    "HEARTBEAT_INTERVAL",
    "OUTPUT_DIR",
    "RESOURCE",
    "STUDY_ID",
    "TRIAL_ID",
]

TRIAL_ID = "SHERPA_TRIAL_ID"
"""The trial's number within its study (the ``Trial-ID`` column)."""

STUDY_ID = "SHERPA_STUDY_ID"
"""The study's id inside the store."""

DB_URL = "SHERPA_DB_URL"
"""The SQLAlchemy URL of the store."""

OUTPUT_DIR = "SHERPA_OUTPUT_DIR"
"""The run's output directory (absolute)."""

RESOURCE = "SHERPA_RESOURCE"
"""The resource (e.g. a GPU id) the scheduler handed to this trial, if any."""

HEARTBEAT_INTERVAL = "SHERPA_HEARTBEAT_INTERVAL"
"""Seconds between two heartbeats of the trial process (set by the runner; 5 by default)."""
