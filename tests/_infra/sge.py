"""A private, single-host Grid Engine (SGE) cell for tests and benchmarks.

Debian's ``gridengine-master``/``gridengine-exec`` daemons always listen on every interface, so
the cell lives inside a private network namespace that has only ``lo`` up: its daemons, every
``qsub``/``qstat``/``qdel``/``qacct`` call and therefore every job run there, unreachable from
outside the machine. Jobs in the namespace can use files (SQLite, unix sockets) but cannot reach
TCP servers of the root namespace.

The cell is private in every other way too: its ``SGE_ROOT`` is a temporary directory whose
``bin``, ``lib``, ``util`` and ``utilbin`` link to the installed package, it has its own cell
name, classic (flat-file) spooling in the same directory, and nothing of the package's
``default`` cell is read or changed. Everything the daemons need is spooled before they start
(global configuration with ``min_uid``/``min_gid`` 0 so root may submit, hosts, managers);
what only a running qmaster accepts (fast scheduling, one queue with ``pe_list NONE`` and no
load thresholds) is two ``qconf`` calls, and one probe job tells that the cell is ready.

Programs under test find the tools on ``PATH``: :attr:`SGECell.bin_dir` holds one small wrapper
per tool that sets ``SGE_ROOT``/``SGE_CELL`` and runs the real tool through
``ip netns exec``, so the code under test knows nothing of the namespace.

Use::

    from tests._infra.sge import sge_cell, unavailable_reason

    with sge_cell(slots=2) as cell:
        subprocess.run(["qsub", "-terse", "job.sh"], env={**os.environ, "PATH": cell.path})

Leaving the context removes everything: every process in the namespace (daemons, shepherds,
jobs) is killed, the namespace and its ``/etc/netns`` entry are deleted, the directory is
removed. Cells left behind by a process that died (a killed test run) are removed when the next
cell starts. About 4.5 s from nothing to a cell that has run a job, 0.1 s to remove it.

This module needs root (network namespaces) and the three Debian packages; it imports nothing
from pytest so that benchmarks can use it as well.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "TOOLS",
    "SGECell",
    "SGEUnavailableError",
    "sge_cell",
    "unavailable_reason",
]

SGE_LIBEXEC = Path("/usr/lib/gridengine")
"""Where Debian installs the real programs (``/usr/bin/q*`` are wrappers around them)."""

SGE_PACKAGE_ROOT = Path("/var/lib/gridengine")
"""The package's ``SGE_ROOT``; the private root links to its program directories."""

SGE_SHARE = Path("/usr/share/gridengine")

TOOLS = ("qsub", "qstat", "qdel", "qacct", "qconf", "qhost", "qalter", "qmod")
"""The client programs that get a wrapper in :attr:`SGECell.bin_dir`."""

INSTALL_HINT = (
    "install Debian's gridengine-master, gridengine-exec and gridengine-client "
    "(debconf: shared/gridengineconfig true, shared/gridenginecell default, "
    "shared/gridenginemaster = this hostname)"
)

QMASTER_PORT = 6444
EXECD_PORT = 6445
"""The standard ports; private to the namespace, so cells of parallel runs never collide."""

_ROOT_LINKS = ("bin", "lib", "util", "utilbin")
_NAMESPACE_PREFIX = "sherpa-sge-"
"""Namespaces (and directories) are named ``sherpa-sge-<pid of their creator>-<random>``."""

_GLOBAL_CHANGES = {
    "min_uid": "0",
    "min_gid": "0",
    "load_report_time": "00:00:02",
    "mailer": "/bin/true",
    # Accounting is flushed at once, so ``qacct -j`` knows a job soon after it ends.
    "reporting_params": (
        "accounting=true reporting=false flush_time=00:00:01 joblog=false "
        "sharelog=00:00:00 accounting_flush_time=00:00:00"
    ),
}

# ``qconf -ssconf`` of a fresh cell, with a scheduling run every second and one right after
# each submission and each job end (the defaults wait 15 s).
_SCHEDULER_CONFIGURATION = """\
algorithm                         default
schedule_interval                 0:0:1
maxujobs                          0
queue_sort_method                 load
job_load_adjustments              NONE
load_adjustment_decay_time        0:0:0
load_formula                      np_load_avg
schedd_job_info                   false
flush_submit_sec                  1
flush_finish_sec                  1
params                            none
reprioritize_interval             0:0:0
halftime                          168
usage_weight_list                 cpu=1.000000,mem=0.000000,io=0.000000
compensation_factor               5.000000
weight_user                       0.250000
weight_project                    0.250000
weight_department                 0.250000
weight_job                        0.250000
weight_tickets_functional         0
weight_tickets_share              0
share_override_tickets            TRUE
share_functional_shares           TRUE
max_functional_jobs_to_schedule   200
report_pjob_tickets               TRUE
max_pending_tasks_per_job         50
halflife_decay_list               none
policy_hierarchy                  OFS
weight_ticket                     0.500000
weight_waiting_time               0.278000
weight_deadline                   3600000.000000
weight_urgency                    0.500000
weight_priority                   0.000000
max_reservation                   0
default_duration                  INFINITY
"""

# ``qconf -aq``'s template, changed where noted: this host only, ``slots`` from the caller, no
# parallel environments (the template names ones that do not exist), no load thresholds (a
# busy 2-core machine would otherwise put the queue in alarm), batch jobs only.
_QUEUE_TEMPLATE = """\
qname                 {name}
hostlist              {host}
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH
ckpt_list             NONE
pe_list               NONE
rerun                 FALSE
slots                 {slots}
tmpdir                /tmp
shell                 /bin/sh
prolog                NONE
epilog                NONE
shell_start_mode      posix_compliant
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
"""

_EXEC_HOST_TEMPLATE = """\
hostname              {host}
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
"""


class SGEUnavailableError(RuntimeError):
    """This machine cannot run a private SGE cell; the message says why and what to do."""


@dataclass(frozen=True)
class SGECell:
    """A running private cell.

    Attributes:
        namespace: The network namespace the daemons and jobs run in.
        directory: The temporary directory holding the cell (removed when it stops).
        sge_root: The cell's ``SGE_ROOT``.
        cell: The cell's name (``SGE_CELL``).
        hostname: The one execution host, this machine's hostname.
        queue: The one queue's name.
        slots: How many jobs the queue runs at once.
        bin_dir: Wrappers named like the tools (:data:`TOOLS`) that run them in the cell.
        startup_s: Seconds from nothing to a cell that had run its probe job.
    """

    namespace: str
    directory: Path
    sge_root: Path
    cell: str
    hostname: str
    queue: str
    slots: int
    bin_dir: Path
    startup_s: float

    @property
    def tool_env(self) -> dict[str, str]:
        """The variables a real SGE tool needs to talk to this cell."""
        return {
            "SGE_ROOT": str(self.sge_root),
            "SGE_CELL": self.cell,
            "SGE_QMASTER_PORT": str(QMASTER_PORT),
            "SGE_EXECD_PORT": str(EXECD_PORT),
        }

    @property
    def path(self) -> str:
        """A ``PATH`` on which the tools reach this cell: :attr:`bin_dir` first."""
        return f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', os.defpath)}"

    def run(
        self, tool: str, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run one SGE tool in the cell and return what it printed.

        Raises:
            subprocess.CalledProcessError: ``check`` and the tool exited non-zero.
        """
        return subprocess.run(
            [str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def namespace_pids(self) -> list[int]:
        """The processes running in the cell's namespace (daemons, shepherds, jobs)."""
        return _namespace_pids(self.namespace)


def unavailable_reason() -> str | None:
    """Why a private cell cannot run here, or None when it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "a private SGE cell needs root (it runs in a private network namespace)"
    if shutil.which("ip") is None:
        return "a private SGE cell needs iproute2's `ip` (network namespaces)"
    programs = ["sge_qmaster", "sge_execd", "spoolinit", "spooldefaults", *TOOLS]
    needed = [SGE_LIBEXEC / name for name in programs]
    needed += [SGE_PACKAGE_ROOT / link for link in _ROOT_LINKS]
    needed += [SGE_SHARE / "default-configuration"]
    missing = [path for path in needed if not path.exists()]
    if missing:
        return f"Grid Engine is not installed (no {missing[0]}): {INSTALL_HINT}"
    return None


@contextlib.contextmanager
def sge_cell(
    *, slots: int = 2, queue: str = "sherpa.q", startup_timeout: float = 60.0
) -> Iterator[SGECell]:
    """Start a private cell, yield it once a job has run, and remove every trace of it.

    Args:
        slots: How many jobs the queue runs at once.
        queue: The queue's name.
        startup_timeout: Seconds to wait for the daemons and the probe job.

    Raises:
        SGEUnavailableError: root, ``ip`` or the packages are missing, or the network
            namespace cannot be made.
        RuntimeError: the daemons did not come up; the message quotes their logs.
    """
    reason = unavailable_reason()
    if reason is not None:
        raise SGEUnavailableError(reason)
    started = time.monotonic()
    _remove_stale_cells()
    namespace = f"{_NAMESPACE_PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
    directory = Path(tempfile.mkdtemp(prefix=f"{namespace}-"))
    cell = SGECell(
        namespace=namespace,
        directory=directory,
        sge_root=directory / "root",
        cell=f"sherpa{secrets.token_hex(3)}",
        hostname=socket.gethostname(),
        queue=queue,
        slots=slots,
        bin_dir=directory / "bin",
        startup_s=0.0,
    )
    namespace_made = False
    try:
        _spool(cell)
        _write_wrappers(cell)
        _make_namespace(cell)
        namespace_made = True
        _start_daemons(cell, deadline=started + startup_timeout)
        cell = dataclasses.replace(cell, startup_s=time.monotonic() - started)
        yield cell
    finally:
        if namespace_made:
            _remove_namespace(cell.namespace)
        shutil.rmtree(directory, ignore_errors=True)


# Setting up, before any daemon runs


def _spool(cell: SGECell) -> None:
    """Write the cell's configuration and spool its objects, as the installer would."""
    common = cell.sge_root / cell.cell / "common"
    qmaster_spool, execd_spool = cell.directory / "spool/qmaster", cell.directory / "spool/execd"
    for path in (common, qmaster_spool, execd_spool):
        path.mkdir(parents=True)
    for link in _ROOT_LINKS:
        (cell.sge_root / link).symlink_to(SGE_PACKAGE_ROOT / link)

    (common / "bootstrap").write_text(
        "admin_user              none\n"  # none: the daemons run, and write files, as root
        "default_domain          none\n"
        "ignore_fqdn             true\n"
        "spooling_method         classic\n"
        "spooling_lib            libspoolc\n"
        f"spooling_params         {common};{qmaster_spool}\n"
        f"binary_path             {SGE_LIBEXEC}\n"
        f"qmaster_spool_dir       {qmaster_spool}\n"
        "security_mode           none\n"
        "listener_threads        2\n"
        "worker_threads          2\n"
        "scheduler_threads       1\n"
    )
    (common / "act_qmaster").write_text(cell.hostname + "\n")
    # The daemons see each other's connections come from 127.0.0.1: one name for it.
    aliases = [cell.hostname] if cell.hostname == "localhost" else [cell.hostname, "localhost"]
    (common / "host_aliases").write_text(" ".join(aliases) + "\n")

    templates = cell.directory / "templates"
    for kind in ("adminhosts", "submithosts", "exechosts"):
        (templates / kind).mkdir(parents=True)
    host_line = f"hostname              {cell.hostname}\n"
    (templates / "adminhosts" / cell.hostname).write_text(host_line)
    (templates / "submithosts" / cell.hostname).write_text(host_line)
    (templates / "exechosts" / cell.hostname).write_text(
        _EXEC_HOST_TEMPLATE.format(host=cell.hostname)
    )
    (templates / "scheduler").write_text(_SCHEDULER_CONFIGURATION)
    (templates / "queue").write_text(
        _QUEUE_TEMPLATE.format(name=cell.queue, host=cell.hostname, slots=cell.slots)
    )
    global_configuration = templates / "global"
    global_configuration.write_text(_global_configuration(execd_spool))

    spool_env = {**os.environ, **cell.tool_env}
    steps: list[list[str]] = [
        ["spoolinit", "classic", "libspoolc", f"{common};{qmaster_spool}", "init"],
        ["spooldefaults", "configuration", str(global_configuration)],
        ["spooldefaults", "complexes", str(SGE_SHARE / "util/resources/centry")],
        ["spooldefaults", "usersets", str(SGE_SHARE / "util/resources/usersets")],
        ["spooldefaults", "managers", "root"],
        ["spooldefaults", "adminhosts", str(templates / "adminhosts")],
        ["spooldefaults", "submithosts", str(templates / "submithosts")],
        ["spooldefaults", "exechosts", str(templates / "exechosts")],
    ]
    for program, *args in steps:
        _check_run([str(SGE_LIBEXEC / program), *args], env=spool_env, what=program)


def _global_configuration(execd_spool: Path) -> str:
    lines = []
    changes = {**_GLOBAL_CHANGES, "execd_spool_dir": str(execd_spool)}
    for line in (SGE_SHARE / "default-configuration").read_text().splitlines():
        key = line.split(maxsplit=1)[0] if line.strip() else ""
        lines.append(f"{key:<22} {changes[key]}" if key in changes else line)
    return "\n".join(lines) + "\n"


def _write_wrappers(cell: SGECell) -> None:
    cell.bin_dir.mkdir()
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in cell.tool_env.items())
    for tool in TOOLS:
        wrapper = cell.bin_dir / tool
        wrapper.write_text(
            "#!/bin/sh\n"
            f"# {tool} of the private SGE cell in network namespace {cell.namespace}\n"
            f"export {exports}\n"
            f'exec ip netns exec {shlex.quote(cell.namespace)} {SGE_LIBEXEC / tool} "$@"\n'
        )
        wrapper.chmod(0o755)


def _netns_hosts(namespace: str) -> Path:
    return Path("/etc/netns") / namespace / "hosts"


def _make_namespace(cell: SGECell) -> None:
    try:
        _check_run(["ip", "netns", "add", cell.namespace], what="ip netns add")
    except RuntimeError as exc:
        raise SGEUnavailableError(f"cannot make a network namespace: {exc}") from exc
    _check_run(["ip", "-n", cell.namespace, "link", "set", "lo", "up"], what="ip link set lo up")
    # `ip netns exec` mounts this over /etc/hosts inside the namespace, so the hostname means
    # the namespace's loopback, whatever this machine's /etc/hosts says.
    hosts = _netns_hosts(cell.namespace)
    hosts.parent.mkdir(parents=True)
    names = " ".join(dict.fromkeys([cell.hostname, "localhost"]))
    hosts.write_text(f"127.0.0.1 {names}\n")


# Running


def _in_namespace(cell: SGECell, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", cell.namespace, *argv]


def _start_daemons(cell: SGECell, *, deadline: float) -> None:
    env = {**os.environ, **cell.tool_env}
    for daemon in ("sge_qmaster", "sge_execd"):
        _check_run(_in_namespace(cell, [str(SGE_LIBEXEC / daemon)]), env=env, what=daemon)
        if daemon == "sge_qmaster":
            _wait_for_qmaster(cell, deadline)
            _configure(cell)
    _run_probe(cell, deadline)


def _wait_for_qmaster(cell: SGECell, deadline: float) -> None:
    while True:
        if cell.run("qstat", check=False, timeout=10).returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"sge_qmaster did not answer in time; {_daemon_logs(cell)}")
        time.sleep(0.1)


def _configure(cell: SGECell) -> None:
    """What only a running qmaster can take: the scheduler's settings, and the queue (spooled
    queues get no queue instances)."""
    templates = cell.directory / "templates"
    cell.run("qconf", "-Msconf", str(templates / "scheduler"))
    cell.run("qconf", "-Aq", str(templates / "queue"))


def _run_probe(cell: SGECell, deadline: float) -> None:
    """Submit one job and wait for it to end: the cell is usable once this returns."""
    probe = cell.directory / "probe.out"
    timeout = max(1.0, deadline - time.monotonic())
    argv = ["-sync", "y", "-b", "y", "-N", "probe", "-o", str(probe), "-j", "y"]
    try:
        result = cell.run("qsub", *argv, "/bin/echo", "ready", check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the probe job did not run in time; {_daemon_logs(cell)}") from None
    if result.returncode != 0 or probe.read_text().strip() != "ready":
        raise RuntimeError(
            f"the probe job failed (qsub exit code {result.returncode}: "
            f"{(result.stdout + result.stderr).strip()!r}); {_daemon_logs(cell)}"
        )


def _daemon_logs(cell: SGECell) -> str:
    parts = []
    for log in sorted((cell.directory / "spool").rglob("messages")):
        tail = log.read_text(errors="replace").splitlines()[-5:]
        parts.append(f"{log.relative_to(cell.directory)}: " + " | ".join(tail))
    return "; ".join(parts) or "no daemon logs"


# Stopping


def _namespace_pids(namespace: str) -> list[int]:
    result = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
    )
    return [int(word) for word in result.stdout.split() if word.isdigit()]


def _remove_namespace(namespace: str) -> None:
    """Kill everything in the namespace (daemons, shepherds, jobs), then delete it."""
    deadline = time.monotonic() + 10.0
    while pids := _namespace_pids(namespace):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    subprocess.run(["ip", "netns", "delete", namespace], capture_output=True, check=False)
    shutil.rmtree(_netns_hosts(namespace).parent, ignore_errors=True)
    with contextlib.suppress(OSError):
        Path("/etc/netns").rmdir()  # only when no other namespace keeps files there


def _remove_stale_cells() -> None:
    """Remove the cells of processes that died without removing them (a killed test run)."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        name = line.split(maxsplit=1)[0] if line.strip() else ""
        owner = re.fullmatch(rf"{_NAMESPACE_PREFIX}(\d+)-[0-9a-f]+", name)
        if owner is None or _process_exists(int(owner.group(1))):
            continue
        _remove_namespace(name)
        for directory in Path(tempfile.gettempdir()).glob(f"{name}-*"):
            shutil.rmtree(directory, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_run(argv: Sequence[str], *, what: str, env: Mapping[str, str] | None = None) -> None:
    try:
        result = subprocess.run(
            list(argv),
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {exc}") from exc
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} exited with {result.returncode}: {(result.stdout + result.stderr).strip()}"
        )
