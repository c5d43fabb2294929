"""Fixtures for scheduler tests: real batch systems started for the test session.

A cluster that cannot start here (not installed, not root) skips the tests that need it, with
the reason; with ``SHERPA_REQUIRE_CLUSTERS=1`` (set in CI) it fails them instead, so a broken
installation cannot pass for a skipped one. Each batch system's fixture builds on
:func:`require_cluster`; SGE's lives in its own test module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:  # tests._infra is imported from the repository root
    sys.path.insert(0, str(_ROOT))

from tests._infra import slurm as slurm_infra  # noqa: E402

REQUIRE_CLUSTERS = "SHERPA_REQUIRE_CLUSTERS"


def clusters_required() -> bool:
    """Whether a cluster that cannot start fails the tests (CI) rather than skipping them."""
    return os.environ.get(REQUIRE_CLUSTERS, "") not in ("", "0")


def require_cluster(reason: str | None) -> None:
    """Skip (or, when clusters are required, fail) with ``reason`` unless it is None."""
    if reason is None:
        return
    unavailable(reason)


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail when ``SHERPA_REQUIRE_CLUSTERS`` is set."""
    if clusters_required():
        pytest.fail(f"{reason} (and {REQUIRE_CLUSTERS} is set)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[slurm_infra.SlurmCluster]:
    """A private single-node SLURM cluster on 127.0.0.1 for the whole session."""
    require_cluster(slurm_infra.unavailable_reason())
    try:
        with slurm_infra.slurm_cluster() as cluster:
            yield cluster
    except slurm_infra.SlurmUnavailableError as exc:
        unavailable(f"the private SLURM cluster did not start: {exc}")


@pytest.fixture
def slurm_env(
    slurm_cluster: slurm_infra.SlurmCluster, monkeypatch: pytest.MonkeyPatch
) -> slurm_infra.SlurmCluster:
    """The session's cluster, with ``SLURM_CONF`` set for this test's process."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    return slurm_cluster
