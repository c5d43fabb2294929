"""The batch job script and exit records, run by a real bash without a batch system.

These cover what every batch scheduler (SLURM, SGE) relies on: quoting, the environment file,
the working directory, the exit record for each way a job can end, and signal handling.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sherpa.schedulers._batch import job_script, read_exit_file

PY = sys.executable
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="job scripts need bash")


def _write(tmp_path: Path, text: str) -> Path:
    script = tmp_path / "job.sh"
    script.write_text(text)
    return script


def _run(script: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if k != "SHERPA_RESOURCE"},
    )


def _wait_for(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        if time.monotonic() > deadline:
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.02)
    return path.read_text()


def test_job_script_passes_arguments_and_variables_unchanged(tmp_path: Path) -> None:
    argv = ["it's", '"double"', "$HOME", "`id`", "a b", "*", "", "line\nbreak", "-n"]
    variables = {"SHERPA_TRIAL_ID": "7", "ODD": 'it\'s $x `y` "z"\nnext', "EMPTY": ""}
    workdir = tmp_path / "work dir $x"
    workdir.mkdir()
    exit_file = tmp_path / "rec ord" / "job.exit"
    exit_file.parent.mkdir()
    code = (
        "import json, os, sys; print(json.dumps([sys.argv[1:], os.getcwd(), "
        "os.environ['SHERPA_TRIAL_ID'], os.environ['ODD'], os.environ['EMPTY']]))"
    )
    script = _write(
        tmp_path, job_script([PY, "-c", code, *argv], variables, workdir, exit_file, None)
    )

    done = _run(script)

    import json

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [argv, str(workdir), "7", variables["ODD"], ""]
    assert exit_file.read_text() == "exit 0\n"
    assert read_exit_file(exit_file) == 0
    assert sorted(p.name for p in exit_file.parent.iterdir()) == ["job.exit"]  # no temp file


@pytest.mark.parametrize("code", [1, 3, 127, 255])
def test_job_script_records_the_commands_exit_code(tmp_path: Path, code: int) -> None:
    exit_file = tmp_path / "job.exit"
    argv = [PY, "-c", f"import sys; print('last words'); sys.exit({code})"]
    done = _run(_write(tmp_path, job_script(argv, {}, tmp_path, exit_file, None)))
    assert done.returncode == code
    assert done.stdout == "last words\n"
    assert read_exit_file(exit_file) == code


def test_job_script_records_a_missing_program_as_127(tmp_path: Path) -> None:
    exit_file = tmp_path / "job.exit"
    script = job_script([str(tmp_path / "no such program")], {}, tmp_path, exit_file, None)
    done = _run(_write(tmp_path, script))
    assert done.returncode == 127
    assert "no such program" in done.stderr
    assert read_exit_file(exit_file) == 127


def test_job_script_sources_the_environment_file_before_its_own_variables(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "my profile.sh"
    profile.write_text(
        "set -eu\nexport FROM_PROFILE='set by the profile'\nexport SHERPA_TRIAL_ID=wrong\n"
        "cd /\nfalse || true\n"
    )
    exit_file = tmp_path / "job.exit"
    code = (
        "import os; print(os.environ['FROM_PROFILE'], os.environ['SHERPA_TRIAL_ID'], "
        "os.getcwd(), sep='|')"
    )
    script = job_script(
        [PY, "-c", code], {"SHERPA_TRIAL_ID": "2"}, tmp_path, exit_file, str(profile)
    )
    done = _run(_write(tmp_path, script))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"set by the profile|2|{tmp_path}\n"
    assert read_exit_file(exit_file) == 0


def test_job_script_fails_with_a_message_when_the_environment_file_is_missing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "not there.sh"
    exit_file = tmp_path / "job.exit"
    marker = tmp_path / "ran"
    script = job_script(["touch", str(marker)], {}, tmp_path, exit_file, str(missing))
    done = _run(_write(tmp_path, script))
    assert done.returncode == 1
    assert done.stderr.endswith(f": cannot read the environment file {missing}\n")
    assert done.stderr.startswith("sherpa job on ")
    assert read_exit_file(exit_file) == 1
    assert not marker.exists()


def test_job_script_without_a_directory_stays_where_the_batch_system_started_it(
    tmp_path: Path,
) -> None:
    # submit_options chose the working directory (--chdir, -wd): the script must not leave it.
    exit_file = tmp_path / "job.exit"
    started_in = tmp_path / "chosen by the user"
    started_in.mkdir()
    script = _write(
        tmp_path,
        job_script([PY, "-c", "import os; print(os.getcwd())"], {}, None, exit_file, None),
    )
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=30, cwd=started_in
    )
    assert (done.returncode, done.stdout) == (0, f"{started_in}\n")
    assert "cd " not in script.read_text()


def test_job_script_fails_with_a_message_when_the_directory_is_missing(tmp_path: Path) -> None:
    exit_file = tmp_path / "job.exit"
    script = job_script(["true"], {}, tmp_path / "gone", exit_file, None)
    done = _run(_write(tmp_path, script))
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].endswith(
        f"cannot change to the directory {tmp_path / 'gone'}"
    )
    assert read_exit_file(exit_file) == 1


def test_job_script_removes_an_inherited_resource(tmp_path: Path) -> None:
    exit_file = tmp_path / "job.exit"
    code = "import os; print(os.environ.get('SHERPA_RESOURCE', 'none'))"
    script = _write(tmp_path, job_script([PY, "-c", code], {}, tmp_path, exit_file, None))
    done = subprocess.run(
        ["bash", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "SHERPA_RESOURCE": "stale"},
    )
    assert done.stdout == "none\n"


SLEEPER = """
import os, signal, sys, time
out = sys.argv[1]
def note(signum, frame):
    with open(out + ".signals", "a") as f:
        f.write(signal.Signals(signum).name + "\\n")
    if signum == signal.SIGTERM:
        sys.exit(5)
for name in ("SIGTERM", "SIGUSR1", "SIGUSR2"):
    signal.signal(getattr(signal, name), note)
with open(out + ".pid", "w") as f:
    f.write(str(os.getpid()))
print("int handler:", signal.getsignal(signal.SIGINT) is signal.default_int_handler, flush=True)
while True:
    time.sleep(0.05)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_job_script_records_a_stopping_signal_and_passes_sigterm_on(
    tmp_path: Path, signum: signal.Signals
) -> None:
    exit_file = tmp_path / "job.exit"
    trial = tmp_path / "sleeper.py"
    trial.write_text(SLEEPER)
    base = str(tmp_path / "trial")
    script = _write(tmp_path, job_script([PY, str(trial), base], {}, tmp_path, exit_file, None))
    process = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE, text=True)
    try:
        _wait_for(Path(base + ".pid"))
        process.send_signal(signum)  # to the script only, as a batch system may do
        assert process.wait(timeout=20) == 128 + signum
    finally:
        process.kill()
        process.wait()
    assert process.stdout is not None
    assert process.stdout.read() == "int handler: True\n"
    assert exit_file.read_text() == f"signal {signum.name.removeprefix('SIG')}\n"
    assert read_exit_file(exit_file) == -signum
    assert Path(base + ".signals").read_text() == "SIGTERM\n"


def test_job_script_forwards_usr1_and_usr2_and_keeps_running(tmp_path: Path) -> None:
    exit_file = tmp_path / "job.exit"
    trial = tmp_path / "sleeper.py"
    trial.write_text(SLEEPER)
    base = str(tmp_path / "trial")
    script = _write(tmp_path, job_script([PY, str(trial), base], {}, tmp_path, exit_file, None))
    process = subprocess.Popen(["bash", str(script)], stdout=subprocess.DEVNULL)
    signals = Path(base + ".signals")
    try:
        _wait_for(Path(base + ".pid"))
        process.send_signal(signal.SIGUSR1)
        assert _wait_for(signals) == "SIGUSR1\n"
        process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 20
        while signals.read_text() != "SIGUSR1\nSIGUSR2\n" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None
        assert not exit_file.exists()
        os.kill(int(Path(base + ".pid").read_text()), signal.SIGTERM)  # the trial alone ends
        assert process.wait(timeout=20) == 5
    finally:
        process.kill()
        process.wait()
    assert signals.read_text() == "SIGUSR1\nSIGUSR2\nSIGTERM\n"
    assert read_exit_file(exit_file) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("exit 0\n", 0),
        ("exit 42\n", 42),
        ("signal TERM\n", -signal.SIGTERM),
        ("signal KILL\n", -signal.SIGKILL),
        ("garbage\n", 255),
        ("exit -1\n", 255),
        ("signal NOPE\n", 255),
        ("", 255),
    ],
)
def test_read_exit_file_parses_records(tmp_path: Path, text: str, expected: int) -> None:
    path = tmp_path / "job.exit"
    path.write_text(text)
    assert read_exit_file(path) == expected


def test_read_exit_file_without_a_record_is_none(tmp_path: Path) -> None:
    assert read_exit_file(tmp_path / "nothing.exit") is None


# An environment file that fails


@pytest.mark.parametrize(
    ("profile", "code", "why"),
    [
        ("echo 'profile says hi'\nexit 0\n", 1, "exit 0 before the trial ran"),
        ("exit 4\n", 4, "exit 4"),
        ("set -e\nfalse\necho not reached\n", 1, "exit 1"),
        ("set -u\necho $SHERPA_TEST_UNSET\necho not reached\n", 1, "exit 1"),
        ("echo before\nif then fi\necho not reached\n", 2, "exit 2"),
        ("return 3\n", 3, "exit 3"),
        ("export X=1\nfalse\n", 1, "exit 1"),
    ],
    ids=["exit-0", "exit-4", "set-e", "set-u", "syntax-error", "return-3", "last-command-fails"],
)
def test_job_script_fails_at_once_with_a_record_when_the_environment_file_fails(
    tmp_path: Path, profile: str, code: int, why: str
) -> None:
    environment = tmp_path / "my profile.sh"
    environment.write_text(profile)
    exit_file = tmp_path / "job.exit"
    marker = tmp_path / "ran"
    script = job_script(["touch", str(marker)], {}, tmp_path, exit_file, str(environment))

    started = time.monotonic()
    done = _run(_write(tmp_path, script))

    assert time.monotonic() - started < 10
    assert done.returncode == code
    last = done.stderr.splitlines()[-1]
    assert last.startswith("sherpa job on ")
    assert last.endswith(f": the environment file {environment} failed ({why})")
    assert "not reached" not in done.stdout
    assert exit_file.read_text() == f"exit {code}\n"
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.exit", "job.sh", "my profile.sh"]


def test_job_script_does_not_leak_the_profiles_set_e_into_the_trials_record(
    tmp_path: Path,
) -> None:
    environment = tmp_path / "strict.sh"
    environment.write_text("set -euo pipefail\nexport FROM_PROFILE=yes\n")
    exit_file = tmp_path / "job.exit"
    argv = [PY, "-c", "import os, sys; print(os.environ['FROM_PROFILE']); sys.exit(3)"]
    done = _run(_write(tmp_path, job_script(argv, {}, tmp_path, exit_file, str(environment))))
    assert (done.returncode, done.stdout, done.stderr) == (3, "yes\n", "")
    assert exit_file.read_text() == "exit 3\n"


def test_job_script_keeps_the_profiles_own_exit_trap(tmp_path: Path) -> None:
    environment = tmp_path / "cleanup.sh"
    environment.write_text("trap 'echo cleaned up' EXIT\n")
    exit_file = tmp_path / "job.exit"
    done = _run(_write(tmp_path, job_script(["true"], {}, tmp_path, exit_file, str(environment))))
    assert (done.returncode, done.stdout, done.stderr) == (0, "cleaned up\n", "")
    assert exit_file.read_text() == "exit 0\n"


def test_job_script_records_a_signal_that_arrives_while_the_profile_runs(
    tmp_path: Path,
) -> None:
    sourcing = tmp_path / "sourcing"
    environment = tmp_path / "slow.sh"
    environment.write_text(f"touch {shlex.quote(str(sourcing))}\nsleep 1\n")
    exit_file = tmp_path / "job.exit"
    marker = tmp_path / "ran"
    script = job_script(["touch", str(marker)], {}, tmp_path, exit_file, str(environment))
    process = subprocess.Popen(
        ["bash", str(_write(tmp_path, script))], stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_file(sourcing)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 128 + signal.SIGTERM
    finally:
        process.kill()
        process.wait()
    assert process.stderr is not None
    assert process.stderr.read() == ""
    assert exit_file.read_text() == "signal TERM\n"
    assert not marker.exists()


def _wait_for_file(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"no {path} after {timeout} s")
        time.sleep(0.02)


@pytest.mark.parametrize("attempt", range(5))
def test_job_script_forwards_usr1_silently_when_the_whole_job_got_it(
    tmp_path: Path, attempt: int
) -> None:
    # SGE's s_rt signals every process of the job: the trial (default action: end) is gone by
    # the time the script's trap forwards the signal, and kill's complaint must not reach the
    # log, where the runner would quote it as the failure's reason.
    exit_file = tmp_path / "job.exit"
    pid_file = tmp_path / "trial.pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    script = job_script([PY, "-c", code], {}, tmp_path, exit_file, None)
    process = subprocess.Popen(
        ["bash", str(_write(tmp_path, script))],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(pid_file)
        os.killpg(process.pid, signal.SIGUSR1)
        assert process.wait(timeout=20) == 128 + signal.SIGUSR1
    finally:
        process.kill()
        process.wait()
    assert process.stderr is not None
    assert process.stderr.read() == ""
    assert exit_file.read_text() == f"exit {128 + signal.SIGUSR1}\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_job_script_stops_the_trial_when_a_signal_beats_the_childs_pid(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # Under load the trial can start (and write its pid file) before the script has run
    # "sherpa_child=$!": hold the script in that window, then signal it.
    exit_file = tmp_path / "job.exit"
    trial = tmp_path / "sleeper.py"
    trial.write_text(SLEEPER)
    base = str(tmp_path / "trial")
    pid_file = Path(base + ".pid")
    ready = tmp_path / "in the window"
    script = job_script([PY, str(trial), base], {}, tmp_path, exit_file, None)
    launch = ") &\nsherpa_child=$!\n"
    assert script.count(launch) == 1
    hold = (
        f"while [ ! -s {shlex.quote(str(pid_file))} ]; do :; done; : > {shlex.quote(str(ready))}"
    )
    script = script.replace(launch, f") &\n{hold}\nwhile :; do :; done\nsherpa_child=$!\n")
    process = subprocess.Popen(["bash", str(_write(tmp_path, script))], stdout=subprocess.DEVNULL)
    try:
        _wait_for_file(ready)
        process.send_signal(signum)
        assert process.wait(timeout=20) == 128 + signum
        assert exit_file.read_text() == f"signal {signum.name.removeprefix('SIG')}\n"
        assert Path(base + ".signals").read_text() == "SIGTERM\n"
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)  # stopped and reaped, not left behind
    finally:
        process.kill()
        process.wait()
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


ENDS_ON_USR1 = """
import signal, sys, time
signal.signal(signal.SIGUSR1, lambda *_: sys.exit(3))
open(sys.argv[1], "w").close()
time.sleep(60)
"""


def test_job_script_records_the_exit_code_of_a_trial_that_ends_on_a_forwarded_signal(
    tmp_path: Path,
) -> None:
    # A trial that saves a checkpoint and exits on SLURM's pre-timeout SIGUSR1 ends right as
    # the forwarded signal wakes the script's wait: the record must hold the trial's own exit
    # code, never wait's 128+10. The race is narrow, so it is run many times.
    trial = tmp_path / "trial.py"
    trial.write_text(ENDS_ON_USR1)
    codes = []
    for attempt in range(20):
        ready, exit_file = tmp_path / f"ready{attempt}", tmp_path / f"job{attempt}.exit"
        script = job_script([PY, str(trial), str(ready)], {}, tmp_path, exit_file, None)
        process = subprocess.Popen(["bash", str(_write(tmp_path, script))])
        try:
            _wait_for_file(ready)
            process.send_signal(signal.SIGUSR1)
            process.wait(timeout=20)
        finally:
            process.kill()
            process.wait()
        codes.append(read_exit_file(exit_file))
    assert codes == [3] * 20


DEFAULT_DEATH = """
import os, signal, sys, time
for name in ("SIGTERM", "SIGINT", "SIGHUP"):
    signal.signal(getattr(signal, name), signal.SIG_DFL)  # dies of any of them
with open(sys.argv[1] + ".pid", "w") as f:
    f.write(str(os.getpid()))
while True:
    time.sleep(0.05)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_job_script_records_a_stopping_signal_that_reached_only_the_command(
    tmp_path: Path, signum: signal.Signals
) -> None:
    # scancel signals every process of the job in no fixed order: the command may be gone
    # before the script's own trap runs. The record must say "stopped" all the same.
    exit_file = tmp_path / "job.exit"
    trial = tmp_path / "dies.py"
    trial.write_text(DEFAULT_DEATH)
    base = str(tmp_path / "trial")
    script = _write(tmp_path, job_script([PY, str(trial), base], {}, tmp_path, exit_file, None))
    process = subprocess.Popen(["bash", str(script)])
    try:
        os.kill(int(_wait_for(Path(base + ".pid"))), signum)  # the command only
        assert process.wait(timeout=20) == 128 + signum
    finally:
        process.kill()
        process.wait()
    assert exit_file.read_text() == f"signal {signum.name.removeprefix('SIG')}\n"
    assert read_exit_file(exit_file) == -signum
