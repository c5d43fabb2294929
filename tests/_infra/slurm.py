"""A private single-node SLURM cluster on 127.0.0.1, for tests and benchmarks.

:func:`slurm_cluster` writes a ``slurm.conf`` into a new temporary directory, starts a private
``munged`` (its own key and socket), ``slurmctld`` and ``slurmd`` bound to 127.0.0.1 on free
ports, waits until the node is idle, and yields a :class:`SlurmCluster`. Callers run SLURM's
commands with ``cluster.env`` (or set ``SLURM_CONF`` to ``cluster.conf``). On exit it cancels the
cluster's jobs, stops the daemons and removes the directory. Several clusters can run at once:
nothing is shared with another cluster or with a system-wide SLURM.

Needs Debian's ``slurm-wlm`` and ``munge`` packages and root (``slurmd`` starts jobs as their
user). :func:`unavailable_reason` says why a cluster cannot be started here, or None.

Example (from the repository root)::

    from tests._infra.slurm import slurm_cluster

    with slurm_cluster() as cluster:
        subprocess.run(["sbatch", "--wrap", "true"], env=cluster.env, check=True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

__all__ = ["SlurmCluster", "SlurmUnavailableError", "slurm_cluster", "unavailable_reason"]

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo", "scontrol")
MUNGE_USER = "munge"
NODE = "localhost"
PARTITION = "debug"
INSTALL_HINT = "apt-get install slurm-wlm munge"


class SlurmUnavailableError(RuntimeError):
    """A private SLURM cluster cannot be started on this machine; the message says why."""


@dataclasses.dataclass(frozen=True)
class SlurmCluster:
    """A running private cluster.

    Attributes:
        root: The cluster's private directory (configuration, state, logs).
        conf: Its ``slurm.conf``; SLURM's commands find it through ``SLURM_CONF``.
        env: This process's environment with ``SLURM_CONF`` set, for SLURM's commands.
        node: The one node's name.
        partition: The default partition's name.
        cpus: The node's CPU count (how many one-CPU jobs run at once).
    """

    root: Path
    conf: Path
    env: Mapping[str, str]
    node: str
    partition: str
    cpus: int

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run one of SLURM's commands against this cluster (output captured, not checked)."""
        return subprocess.run(
            list(argv), env=dict(self.env), capture_output=True, text=True, timeout=timeout
        )

    def job_ids(self) -> list[str]:
        """The ids of the jobs the controller still lists (any state)."""
        listed = self.run("squeue", "-h", "--states=all", "-o", "%i")
        return listed.stdout.split()


def unavailable_reason() -> str | None:
    """Why a private cluster cannot run here (a missing program, not root), or None."""
    missing = [name for name in PROGRAMS if shutil.which(name, path=_search_path()) is None]
    if missing:
        return f"SLURM is not installed (no {', '.join(missing)}; {INSTALL_HINT})"
    if os.geteuid() != 0:
        return "a private SLURM cluster needs root (slurmd starts jobs as their user)"
    try:
        pwd.getpwnam(MUNGE_USER)
    except KeyError:
        return f"there is no {MUNGE_USER!r} user to run munged as ({INSTALL_HINT})"
    return None


def _search_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _slurm_conf(root: Path, cpus: int, min_job_age: int, munge_socket: Path) -> str:
    ports = _free_port(), _free_port()
    lines = {
        "ClusterName": f"sherpa{secrets.token_hex(3)}",
        "SlurmctldHost": f"{NODE}(127.0.0.1)",
        "SlurmctldPort": ports[0],
        "SlurmdPort": ports[1],
        "SlurmUser": "root",
        "SlurmdUser": "root",
        "AuthType": "auth/munge",
        "CredType": "cred/munge",
        "AuthInfo": f"socket={munge_socket}",
        # Bind every daemon to the address it resolves to (127.0.0.1), not to all interfaces.
        "CommunicationParameters": "NoCtldInAddrAny,NoInAddrAny",
        "StateSaveLocation": root / "state",
        "SlurmdSpoolDir": root / "spool",
        "SlurmctldPidFile": root / "slurmctld.pid",
        "SlurmdPidFile": root / "slurmd.pid",
        "SlurmctldLogFile": root / "slurmctld.log",
        "SlurmdLogFile": root / "slurmd.log",
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_Core",
        # Without it the controller batches job starts and short jobs wait seconds to start.
        "SchedulerParameters": "batch_sched_delay=0",
        "MpiDefault": "none",
        "ReturnToService": 2,
        "MinJobAge": min_job_age,
        "KillWait": 5,
        "AccountingStorageType": "accounting_storage/none",
        "JobCompType": "jobcomp/filetxt",
        "JobCompLoc": root / "jobcomp.txt",
        "SlurmctldDebug": "info",
        "SlurmdDebug": "info",
    }
    text = "".join(f"{key}={value}\n" for key, value in lines.items())
    text += (
        f"NodeName={NODE} NodeHostname={NODE} NodeAddr=127.0.0.1 CPUs={cpus} "
        "RealMemory=1000 State=UNKNOWN\n"
        f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP\n"
    )
    return text


def _start_munged(root: Path) -> tuple[subprocess.Popen[bytes], Path]:
    directory = root / "munge"
    directory.mkdir()
    directory.chmod(0o755)  # munged wants its socket directory searchable by everyone
    shutil.chown(directory, MUNGE_USER, MUNGE_USER)
    key = directory / "munge.key"
    key.write_bytes(secrets.token_bytes(1024))
    key.chmod(0o600)
    shutil.chown(key, MUNGE_USER, MUNGE_USER)
    socket_path = directory / "munge.socket"
    argv = [
        shutil.which("munged", path=_search_path()) or "munged",
        "--foreground",
        f"--socket={socket_path}",
        f"--key-file={key}",
        f"--pid-file={directory / 'munged.pid'}",
        f"--log-file={directory / 'munged.log'}",
        f"--seed-file={directory / 'munged.seed'}",
    ]
    process = subprocess.Popen(
        argv,
        user=MUNGE_USER,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "munged.err", "wb"),  # noqa: SIM115 (closed with the process)
    )
    _wait(lambda: socket_path.exists(), 15, "munged's socket", process, root / "munged.err")
    return process, socket_path


def _start_daemon(
    name: str, argv: list[str], env: Mapping[str, str], root: Path
) -> subprocess.Popen[bytes]:
    with open(root / f"{name}.err", "wb") as err:
        return subprocess.Popen(
            [shutil.which(name, path=_search_path()) or name, *argv],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise SlurmUnavailableError(
                f"{what}: the daemon exited with {process.returncode}\n{_tail(log) if log else ''}"
            )
        if time.monotonic() > deadline:
            raise SlurmUnavailableError(
                f"timed out after {timeout} s waiting for {what}\n{_tail(log) if log else ''}"
            )
        time.sleep(0.05)


def _node_state(env: Mapping[str, str]) -> str:
    try:
        shown = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=10,
        )
    except subprocess.TimeoutExpired:
        return ""
    return shown.stdout.strip()


def _warm_up(cluster: SlurmCluster, timeout: float) -> None:
    """Run one job: the controller's first scheduling pass comes seconds after it starts."""
    submitted = cluster.run("sbatch", "--parsable", "--output=/dev/null", "--wrap=true")
    if submitted.returncode != 0:
        raise SlurmUnavailableError(f"the warm-up job was refused: {submitted.stderr.strip()}")
    job_id = submitted.stdout.strip().split(";")[0]

    def ended() -> bool:
        shown = cluster.run("squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T").stdout
        return shown.strip() in ("", "COMPLETED")

    _wait(ended, timeout, "the warm-up job to run", None, cluster.root / "slurmctld.log")


def _stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cancel_jobs(cluster: SlurmCluster, timeout: float = 15) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        cluster.run("scancel", f"--user={getpass.getuser()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = cluster.run("squeue", "-h", "-t", "PD,R,CG,CF,S,ST", "-o", "%i").stdout
            if not states.split():
                return
            time.sleep(0.1)


def _kill_stray_stepds(conf: Path) -> None:
    """Kill ``slurmstepd`` processes of this cluster that outlived slurmd (they daemonize)."""
    marker = f"SLURM_CONF={conf}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "slurmstepd":
                continue
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


@contextlib.contextmanager
def slurm_cluster(
    *, cpus: int = 2, min_job_age: int = 2, startup_timeout: float = 60, warm_up: bool = True
) -> Iterator[SlurmCluster]:
    """Start a private single-node cluster; stop it and remove its files on exit.

    Args:
        cpus: The node's CPU count; one-CPU jobs beyond it wait in the queue.
        min_job_age: Seconds a finished job stays listed by ``squeue``/``scontrol``.
        startup_timeout: Seconds to wait for the node to become idle (and for the warm-up job).
        warm_up: Run one job before yielding, so that the first job of the caller starts as
            quickly as later ones (the controller's first scheduling pass is seconds late).

    Raises:
        SlurmUnavailableError: SLURM is not installed, this is not root, or the cluster did
            not come up (the message carries the daemons' last log lines).
    """
    reason = unavailable_reason()
    if reason is not None:
        raise SlurmUnavailableError(reason)
    root = Path(tempfile.mkdtemp(prefix="sherpa-slurm-"))
    root.chmod(0o755)  # munged, running as its own user, must reach its directory inside
    for name in ("state", "spool"):
        (root / name).mkdir()
    processes: list[subprocess.Popen[bytes]] = []
    cluster: SlurmCluster | None = None
    try:
        munged, munge_socket = _start_munged(root)
        processes.append(munged)
        conf = root / "slurm.conf"
        conf.write_text(_slurm_conf(root, cpus, min_job_age, munge_socket))
        env = {**os.environ, "SLURM_CONF": str(conf)}
        cluster = SlurmCluster(root, conf, env, NODE, PARTITION, cpus)

        ctld = _start_daemon("slurmctld", ["-D", "-c", "-f", str(conf)], env, root)
        processes.append(ctld)
        _wait(
            lambda: cluster.run("scontrol", "ping").returncode == 0,
            startup_timeout,
            "slurmctld to answer",
            ctld,
            root / "slurmctld.log",
        )
        slurmd = _start_daemon("slurmd", ["-D", "-N", NODE, "-f", str(conf)], env, root)
        processes.append(slurmd)
        _wait(
            lambda: _node_state(env) == "idle",
            startup_timeout,
            "the node to become idle",
            slurmd,
            root / "slurmd.log",
        )
        if warm_up:
            _warm_up(cluster, startup_timeout)
        yield cluster
    finally:
        if cluster is not None and len(processes) == 3:
            _cancel_jobs(cluster)
        for process in reversed(processes):
            _stop(process)
        _kill_stray_stepds(root / "slurm.conf")
        shutil.rmtree(root, ignore_errors=True)
