"""The SQL schema, one definition for every backend.

Version 2. ``sherpa_meta`` holds ``schema_version``; a store refuses to open a database
written by a newer version and brings an older one up to date when it opens it, with the
steps in :data:`MIGRATIONS` (run by :class:`sherpa.storage._sql.SQLStorage`).

History:

1. The first schema. ``sherpa_trials.heartbeat_at`` existed but nothing wrote it.
2. ``sherpa_trials.host`` and ``pid``: where the trial process runs, written with each
   heartbeat, so that the runner can name the host of a trial it has lost. The heartbeat
   itself is stamped with the database's clock (UTC seconds since the epoch).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "meta", "metadata", "observations", "studies", "trials"]

SCHEMA_VERSION = 2

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE sherpa_trials ADD COLUMN host VARCHAR(255)",
        "ALTER TABLE sherpa_trials ADD COLUMN pid INTEGER",
    ),
}
"""The statements that bring a database from each version to the next (valid on every
backend); all the steps an upgrade needs run in one transaction with the update of
``schema_version``."""

metadata = MetaData()

meta = Table(
    "sherpa_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

studies = Table(
    "sherpa_studies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("lower_is_better", Boolean, nullable=False),
    Column("parameters", Text, nullable=False),  # JSON: the parameter definitions
    Column("created_at", Float, nullable=False),
)

trials = Table(
    "sherpa_trials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("sherpa_studies.id"), nullable=False),
    Column("number", Integer, nullable=False),  # the Trial-ID users see
    Column("parameters", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("job_id", String(255)),
    Column("heartbeat_at", Float),  # the database's clock, UTC seconds since the epoch
    Column("host", String(255)),  # the trial process's host name, sent with its heartbeat
    Column("pid", Integer),  # and its process id on that host
    Column("stop_requested", Boolean, nullable=False, default=False),
    UniqueConstraint("study_id", "number", name="uq_sherpa_trials_study_number"),
)

observations = Table(
    "sherpa_observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("sherpa_studies.id"), nullable=False),
    Column("trial_id", Integer, ForeignKey("sherpa_trials.id"), nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("objective", Float),  # NULL stands for NaN
    Column("context", Text, nullable=False),  # JSON
    Column("created_at", Float, nullable=False),
    UniqueConstraint("trial_id", "iteration", name="uq_sherpa_observations_trial_iteration"),
    Index("ix_sherpa_observations_study_id", "study_id", "id"),
)
