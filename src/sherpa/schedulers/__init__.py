"""Schedulers: where trial commands run."""

from __future__ import annotations

from sherpa.schedulers._base import JobStatus, JobSubmissionError, Scheduler
from sherpa.schedulers._batch import BatchScheduler, BatchToolNotFoundError
from sherpa.schedulers._local import LocalScheduler
from sherpa.schedulers._sge import SGEScheduler
from sherpa.schedulers._slurm import SLURMScheduler

__all__ = [
    "BatchScheduler",
    "BatchToolNotFoundError",
    "JobStatus",
    "JobSubmissionError",
    "LocalScheduler",
    "SGEScheduler",
    "SLURMScheduler",
    "Scheduler",
]
