"""Schedulers: where trial commands run.

``DaskScheduler`` loads on first use, so that importing sherpa never imports Dask.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sherpa.schedulers._base import (
    JobStatus,
    JobSubmissionError,
    Scheduler,
    SchedulerUnusableError,
)
from sherpa.schedulers._batch import BatchScheduler, BatchToolNotFoundError
from sherpa.schedulers._local import LocalScheduler
from sherpa.schedulers._sge import SGEScheduler
from sherpa.schedulers._slurm import SLURMScheduler

if TYPE_CHECKING:
    from sherpa.schedulers._dask import DaskScheduler

__all__ = [
    "BatchScheduler",
    "BatchToolNotFoundError",
    "DaskScheduler",
    "JobStatus",
    "JobSubmissionError",
    "LocalScheduler",
    "SGEScheduler",
    "SLURMScheduler",
    "Scheduler",
    "SchedulerUnusableError",
]

_LAZY_ATTRIBUTES = {"DaskScheduler": "sherpa.schedulers._dask"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'sherpa.schedulers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
