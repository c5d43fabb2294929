"""Trials as SLURM batch jobs: ``sbatch``, one ``squeue`` per poll, ``scancel``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sherpa.schedulers._base import JobStatus
from sherpa.schedulers._batch import BatchScheduler

__all__ = ["SLURMScheduler"]

_STATES = {
    JobStatus.QUEUED: (
        "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD",
        "SPECIAL_EXIT",
    ),
    JobStatus.RUNNING: (
        "RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", "RESIZING", "SUSPENDED", "STOPPED",
    ),
    JobStatus.FINISHED: ("COMPLETED",),
    JobStatus.FAILED: ("FAILED", "NODE_FAIL", "BOOT_FAIL", "OUT_OF_MEMORY"),
    JobStatus.KILLED: ("CANCELLED", "TIMEOUT", "PREEMPTED", "DEADLINE"),
}  # fmt: skip
STATE_STATUS: dict[str, JobStatus] = {
    state: status for status, states in _STATES.items() for state in states
}
"""What each of ``squeue``'s job states (``%T``) means to the runner."""


def _literal_filename(path: Path) -> str:
    """``path`` for sbatch's ``--output``, which would replace ``%j`` and the like in it."""
    return str(path).replace("%", "%%")


class SLURMScheduler(BatchScheduler):
    """Run each trial as a SLURM batch job.

    Each trial is a job script (``output_dir/jobs/<job_name>.sh``) submitted with
    ``sbatch --parsable``; its output goes to ``output_dir/jobs/<job_name>.out``. One
    ``squeue`` call per poll asks the state of every running job, and the script's own exit
    record (``<job_name>.exit``) gives the exact outcome after SLURM has forgotten the job,
    with or without accounting. ``kill_job`` runs ``scancel``; a job cancelled from outside
    (``scancel``, a time limit, preemption) ends ``KILLED``, so its trial is ``STOPPED``.

    The submit command is ``sbatch --job-name=<job_name> --chdir=<the runner's working
    directory> --no-requeue <submit_options> --parsable --output=<log> <script>``: a
    ``--job-name``, ``--chdir`` (``-D``) or ``--requeue`` in ``submit_options`` wins over
    sherpa's, while sherpa's ``--output`` wins over one in ``submit_options`` (the runner reads
    the log there). Without ``--requeue``, a job that SLURM would requeue (a node failure,
    preemption) ends instead, and its trial with it; a requeued job would run its trial again
    after the runner has recorded it as ended. ``-M``/``--clusters`` is refused: the status
    and cancel commands ask the default cluster only. An ``--error`` option splits
    stderr off into another file, which the runner does not read. SLURM's default
    ``--export=ALL`` passes the runner's environment on to the job; the trial's own variables
    are set by the script, so they also arrive with ``--export=NONE``.

    Resources: ask SLURM for GPUs with ``--gres=gpu:1`` (or ``--gpus=1``) in
    ``submit_options``; SLURM then sets ``CUDA_VISIBLE_DEVICES`` for the job on whichever node
    it runs. ``resources`` hands out values in ``SHERPA_RESOURCE`` and caps the number of
    trials at once as for :class:`~sherpa.schedulers.LocalScheduler`, but SLURM picks the node,
    so use it only for values that mean the same on every node.

    Args:
        submit_options: ``sbatch`` options, as typed after ``sbatch`` (split like a shell
            would), e.g. ``"--partition=gpu --gres=gpu:1 --time=02:00:00"``.
        environment: A bash profile each job sources before the trial runs (e.g. one that
            activates a virtual environment); it must be readable on the compute nodes.
        output_dir: Where scripts, logs and exit records go (``output_dir/jobs/``); the
            runner's output directory when empty or None. Must be shared with the compute
            nodes.
        resources: Values handed out one per running trial as ``SHERPA_RESOURCE``.

    Example:
        >>> import sherpa
        >>> scheduler = sherpa.schedulers.SLURMScheduler(
        ...     submit_options="--partition=debug --time=10:00", environment=None
        ... )
        >>> scheduler.spans_hosts
        True
    """

    batch_system = "SLURM"
    install_hint = (
        "SLURM's client commands (Debian and Ubuntu: apt-get install slurm-client) and "
        "make them find the cluster's slurm.conf"
    )
    none_known_markers = ("Invalid job id specified",)

    def __init__(
        self,
        submit_options: str = "",
        environment: str | os.PathLike[str] | None = None,
        output_dir: str | os.PathLike[str] | None = "",
        *,
        resources: Iterable[Any] | None = None,
    ) -> None:
        super().__init__(submit_options, environment, output_dir, resources=resources)
        self._check_options()

    def _check_options(self) -> None:
        if any(_is_option(o, "-M", "--clusters", "--cluster") for o in self._options):
            raise ValueError(
                f"submit_options {self.submit_options!r} name other clusters (-M/--clusters), "
                "but sherpa asks squeue and scancel about the default cluster only; run the "
                "runner on a host of the cluster the trials should run on"
            )

    def _sets_directory(self) -> bool:
        return any(_is_option(o, "-D", "--chdir", "--workdir") for o in self._options)

    def _submit_argv(self, script: Path, log: Path, job_name: str) -> list[str]:
        requeue = any(_is_option(o, "--requeue", "--no-requeue") for o in self._options)
        return [
            "sbatch",
            f"--job-name={job_name}",
            f"--chdir={Path.cwd()}",
            # A requeued job would run its trial again after the runner has ended it.
            *([] if requeue else ["--no-requeue"]),
            *self._options,
            "--parsable",
            f"--output={_literal_filename(log)}",
            str(script),
        ]

    def _parse_job_id(self, stdout: str) -> str:
        # --parsable prints "<id>" or "<id>;<cluster>"; sbatch may print notices before it.
        lines = stdout.strip().splitlines()
        job_id = lines[-1].split(";")[0].strip() if lines else ""
        if not job_id.isdigit():
            raise ValueError(f"expected a numeric job id, got {job_id!r}")
        return job_id

    def _status_argv(self, job_ids: list[str]) -> list[str]:
        # --states=all keeps ended jobs listed (until MinJobAge), so a cancellation is seen
        # even for a job that never started and therefore left no exit record.
        return ["squeue", "--noheader", "--states=all", f"--jobs={','.join(job_ids)}",
                "--format=%i %T"]  # fmt: skip

    def _parse_statuses(self, stdout: str) -> dict[str, JobStatus]:
        statuses = {}
        for line in stdout.splitlines():
            job_id, _, state = line.strip().partition(" ")
            if job_id:
                statuses[job_id] = STATE_STATUS.get(state.strip(), JobStatus.UNKNOWN)
        return statuses

    def _kill_argv(self, job_id: str) -> list[str]:
        return ["scancel", job_id]


def _is_option(argument: str, short: str, *long: str) -> bool:
    """Whether one ``sbatch`` argument is the option ``short`` or one of ``long``, in any form.

    ``-D dir``, ``-Ddir``, ``--chdir dir`` and ``--chdir=dir`` all count (the value is a
    separate argument in the first and third form, which this one word does not need).
    """
    if argument == short or (argument.startswith(short) and not argument.startswith("--")):
        return True
    return any(argument == name or argument.startswith(f"{name}=") for name in long)
