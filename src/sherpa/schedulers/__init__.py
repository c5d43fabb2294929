"""Schedulers: where trial commands run."""

from __future__ import annotations

from sherpa.schedulers._base import JobStatus, JobSubmissionError, Scheduler
from sherpa.schedulers._local import LocalScheduler

__all__ = [
    "JobStatus",
    "JobSubmissionError",
    "LocalScheduler",
    "Scheduler",
]
