"""The study: parameters, an algorithm, trials and their results, optionally in a store."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sherpa._convert import (
    check_flag,
    check_iteration,
    check_objective,
    check_protocol,
    check_seed,
    to_builtin,
)
from sherpa._keras import make_keras_callback
from sherpa.client import check_context
from sherpa.exceptions import (
    AlgorithmError,
    DuplicateObservationError,
    SherpaError,
    TrialFinishedError,
    UnknownTrialError,
)
from sherpa.logging import get_logger
from sherpa.parameters import Parameter, validate_parameters
from sherpa.study._results import ResultsTable
from sherpa.trial import AlgorithmState, Trial, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.algorithms import Algorithm, StoppingRule
    from sherpa.dashboard import DashboardServer
    from sherpa.storage import ObservationRecord, SQLStorage, StudyRecord

__all__ = ["Study"]

_logger = get_logger(__name__)

RESULTS_FILENAME = "results.csv"


@dataclasses.dataclass
class _TrialState:
    trial: Trial
    status: TrialStatus = TrialStatus.INTERMEDIATE
    iterations: set[int] = dataclasses.field(default_factory=set)
    last_iteration: int | None = None
    best: tuple[int, float, dict[str, Any]] | None = None
    stop_requested: bool = False


def _check_port(value: object) -> int | None:
    if value is None:
        return None
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"dashboard_port must be an int or None; got {value!r}")
    if not 0 < int(value) < 65536:
        raise ValueError(f"dashboard_port must be between 1 and 65535; got {value!r}")
    return int(value)


def _check_algorithm(algorithm: object) -> Algorithm:
    checked: Algorithm = check_protocol(
        "algorithm", algorithm, "get_suggestion", "sherpa.algorithms.Algorithm"
    )
    return checked


def _check_stopping_rule(rule: object) -> StoppingRule | None:
    if rule is None:
        return None
    checked: StoppingRule = check_protocol(
        "stopping_rule", rule, "should_trial_stop", "sherpa.algorithms.StoppingRule"
    )
    return checked


def check_study_arguments(
    parameters: object,
    algorithm: object,
    lower_is_better: object,
    stopping_rule: object = None,
    dashboard_port: object = None,
    disable_dashboard: object = False,
    random_seed: object = None,
) -> None:
    """Raise the error :class:`Study` would raise for these arguments, without building one."""
    validate_parameters(parameters)
    _check_algorithm(algorithm)
    check_flag("lower_is_better", lower_is_better)
    _check_stopping_rule(stopping_rule)
    _check_port(dashboard_port)
    check_flag("disable_dashboard", disable_dashboard)
    check_seed(random_seed, "random_seed")


def _is_better(candidate: float, incumbent: float, lower_is_better: bool) -> bool:
    return candidate < incumbent if lower_is_better else candidate > incumbent


class Study:
    """A hyperparameter search in the current process.

    The study asks its algorithm for configurations, hands them out as trials and keeps every
    reported objective in :attr:`results`. ``sherpa.optimize`` drives the same object, with
    trials running as separate processes.

    Args:
        parameters: The search space.
        algorithm: Suggests configurations, e.g. ``sherpa.algorithms.RandomSearch()``.
        lower_is_better: Whether the objective is minimized.
        stopping_rule: Decides when :meth:`should_trial_stop` is true, e.g.
            ``sherpa.algorithms.MedianStoppingRule()``.
        dashboard_port: The port of the dashboard; None takes the first free one from 8880.
            A study with a store serves its dashboard (``docs/dashboard.md``) until
            :meth:`close`; the address, with its access token, is logged once.
        disable_dashboard: Do not start the dashboard.
        output_dir: Where :meth:`save` writes ``results.csv``.
        random_seed: Seeds the algorithm when it was built without a seed of its own.
        storage: A store to write every trial and observation to: an
            :class:`~sherpa.storage.SQLStorage` or a database URL. None keeps the study in
            memory only.
        study_name: The study's name inside the store; a new unique one by default.

    Example:
        >>> import sherpa
        >>> study = sherpa.Study(
        ...     parameters=[sherpa.Continuous("x", [-1.0, 1.0])],
        ...     algorithm=sherpa.algorithms.RandomSearch(max_num_trials=3, seed=0),
        ...     lower_is_better=True,
        ...     disable_dashboard=True,
        ... )
        >>> for trial in study:
        ...     study.add_observation(trial, objective=trial.parameters["x"] ** 2)
        ...     study.finalize(trial)
        >>> len(study.results)
        6
    """

    def __init__(
        self,
        parameters: Sequence[Parameter],
        algorithm: Algorithm,
        lower_is_better: bool,
        stopping_rule: StoppingRule | None = None,
        dashboard_port: int | None = None,
        disable_dashboard: bool = False,
        output_dir: str | os.PathLike[str] | None = None,
        random_seed: int | None = None,
        *,
        storage: SQLStorage | str | None = None,
        study_name: str | None = None,
    ) -> None:
        self.parameters = validate_parameters(parameters)
        self.algorithm = _check_algorithm(algorithm)
        self.lower_is_better = check_flag("lower_is_better", lower_is_better)
        self.stopping_rule = _check_stopping_rule(stopping_rule)
        self.dashboard_port = _check_port(dashboard_port)
        self.disable_dashboard = check_flag("disable_dashboard", disable_dashboard)
        self.output_dir = None if output_dir is None else Path(output_dir)
        self.random_seed = check_seed(random_seed, "random_seed")
        adopt_seed = getattr(self.algorithm, "adopt_seed", None)
        if self.random_seed is not None and adopt_seed is not None:
            adopt_seed(self.random_seed)

        self._trials: dict[int, _TrialState] = {}
        self._next_id = 1
        self._table = ResultsTable(p.name for p in self.parameters)
        self._best: tuple[float, int] | None = None

        self.storage = _open_storage(storage)
        self.study_id: int | None = None
        self.name = study_name or f"study-{uuid.uuid4().hex[:12]}"
        if self.storage is not None:
            record = self.storage.create_study(
                self.name,
                lower_is_better=self.lower_is_better,
                parameters=[p.to_dict() for p in self.parameters],
            )
            self.study_id = record.id
        self._dashboard: DashboardServer | None = None
        if not self.disable_dashboard:
            from sherpa.dashboard._launch import start_for_study

            self._dashboard = start_for_study(self)

    # Suggestions

    def get_suggestion(self) -> Trial | AlgorithmState | None:
        """Ask the algorithm for the next configuration.

        Returns:
            A new :class:`~sherpa.Trial`; ``AlgorithmState.WAIT`` when the algorithm needs
            running trials to finish first; ``AlgorithmState.DONE`` or None when it is done.
        """
        results = self.results if getattr(self.algorithm, "requires_results", True) else None
        suggestion = self.algorithm.get_suggestion(self.parameters, results, self.lower_is_better)
        if suggestion is None or isinstance(suggestion, AlgorithmState):
            return suggestion
        if isinstance(suggestion, str) and suggestion in AlgorithmState.__members__:
            return AlgorithmState(suggestion)
        if not isinstance(suggestion, Mapping):
            raise AlgorithmError(
                f"{type(self.algorithm).__name__}.get_suggestion returned {suggestion!r}; "
                "expected a dict of parameter values, AlgorithmState.WAIT, "
                "AlgorithmState.DONE or None"
            )
        missing = [p.name for p in self.parameters if p.name not in suggestion]
        if missing:
            raise AlgorithmError(
                f"{type(self.algorithm).__name__}.get_suggestion returned {dict(suggestion)!r}, "
                f"which lacks a value for {missing!r}"
            )
        return self._new_trial({str(k): to_builtin(v) for k, v in suggestion.items()})

    def create_trial(self, parameters: Mapping[str, Any]) -> Trial:
        """Add a trial with the given configuration, outside the algorithm.

        The trial gets the next free id; the runner uses this to rerun a failed
        configuration.
        """
        return self._new_trial({str(k): to_builtin(v) for k, v in parameters.items()})

    def _new_trial(self, parameters: dict[str, Any]) -> Trial:
        trial = Trial(id=self._next_id, parameters=parameters)
        if self.storage is not None and self.study_id is not None:
            self.storage.create_trial(self.study_id, trial.id, parameters)
        self._register(trial)
        return trial

    def _register(self, trial: Trial) -> None:
        self._trials[trial.id] = _TrialState(trial)
        self._next_id = max(self._next_id, trial.id + 1)

    def __iter__(self) -> Iterator[Trial]:
        return self

    def __next__(self) -> Trial:
        suggestion = self.get_suggestion()
        if suggestion is None or suggestion is AlgorithmState.DONE:
            raise StopIteration
        if suggestion is AlgorithmState.WAIT:
            open_ids = self.open_trial_ids()
            if open_ids:
                raise AlgorithmError(
                    f"{type(self.algorithm).__name__} is waiting for running trials to finish; "
                    f"finalize trials {open_ids} before asking for the next one"
                )
            raise AlgorithmError(
                f"{type(self.algorithm).__name__} answered WAIT although no trial is running"
            )
        return suggestion

    def add_trial(self, trial: Trial) -> None:
        """Add a trial made outside the algorithm, e.g. a configuration to evaluate first.

        Raises:
            ValueError: the study already has a trial with this id.
        """
        if not isinstance(trial, Trial):
            raise TypeError(f"trial must be a sherpa.Trial; got {trial!r}")
        if trial.id in self._trials:
            raise ValueError(f"trial {trial.id} is already in the study; use a new id")
        if self.storage is not None and self.study_id is not None:
            self.storage.create_trial(self.study_id, trial.id, trial.parameters)
        self._register(trial)

    # Observations

    def _state_of(self, trial: Trial) -> _TrialState:
        if not isinstance(trial, Trial):
            raise TypeError(
                f"trial must be a sherpa.Trial; got {trial!r} ({type(trial).__name__})"
            )
        state = self._trials.get(trial.id)
        if state is None or (
            state.trial is not trial and state.trial.parameters != trial.parameters
        ):
            raise UnknownTrialError(f"trial {trial.id} does not belong to this study")
        return state

    def add_observation(
        self,
        trial: Trial,
        objective: float,
        iteration: int = 1,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Record the objective of ``trial`` at one iteration.

        Args:
            trial: A trial of this study.
            objective: The value being optimized (NaN is kept, never chosen as best).
            iteration: The iteration, 0 or more; each may be recorded once.
            context: Other metrics to keep in the results table.

        Raises:
            UnknownTrialError: ``trial`` does not belong to the study.
            TypeError: ``objective`` is not a real number.
            DuplicateObservationError: ``iteration`` was already recorded.
            TrialFinishedError: the trial was already finalized.
        """
        state = self._state_of(trial)
        number = check_iteration(iteration)
        value = check_objective(objective)
        checked = check_context(context, state.trial.parameters)
        if state.status.is_finished:
            raise TrialFinishedError(
                f"trial {trial.id} is already {state.status.value}; cannot add iteration {number}"
            )
        if number in state.iterations:
            raise DuplicateObservationError(
                f"trial {trial.id} already has an observation at iteration {number}"
            )
        if self.storage is not None and self.study_id is not None:
            self.storage.add_observation(self.study_id, trial.id, number, value, checked)
        self._record(state, number, value, checked)

    def _record(
        self, state: _TrialState, iteration: int, objective: float, context: dict[str, Any]
    ) -> None:
        state.iterations.add(iteration)
        if state.last_iteration is None or iteration > state.last_iteration:
            state.last_iteration = iteration
        if not math.isnan(objective) and (
            state.best is None or _is_better(objective, state.best[1], self.lower_is_better)
        ):
            state.best = (iteration, objective, context)
        self._table.add_row(
            state.trial.id,
            TrialStatus.INTERMEDIATE.value,
            iteration,
            state.trial.parameters,
            objective,
            context,
        )

    def ingest(self, record: ObservationRecord) -> bool:
        """Add an observation that a trial process has already written to the store.

        Returns:
            Whether it was added: False for an unknown or finished trial, or an iteration
            the study already has.
        """
        state = self._trials.get(record.trial_number)
        if state is None or state.status.is_finished or record.iteration in state.iterations:
            return False
        self._record(state, record.iteration, record.objective, record.context)
        return True

    def finalize(self, trial: Trial, status: TrialStatus | str = "COMPLETED") -> None:
        """End a trial and add its final row to the results.

        Args:
            trial: A trial of this study.
            status: ``COMPLETED``, ``FAILED`` or ``STOPPED``.

        Raises:
            ValueError: ``status`` is not a final status, the trial was already finalized, or
                it is to be ``COMPLETED`` without any observation (as in SHERPA; ``FAILED``
                and ``STOPPED`` need none).
        """
        state = self._state_of(trial)
        final = status if isinstance(status, TrialStatus) else None
        if isinstance(status, str) and status.upper() in TrialStatus.__members__:
            final = TrialStatus(status.upper())
        if final is None or not final.is_finished:
            raise ValueError(f"status must be COMPLETED, FAILED or STOPPED; got {status!r}")
        if state.status.is_finished:
            raise TrialFinishedError(f"trial {trial.id} is already {state.status.value}")
        if final is TrialStatus.COMPLETED and not state.iterations:
            raise ValueError(
                f"trial {trial.id} has no observation to complete it with; add one with "
                "add_observation, or finalize it with status='FAILED'"
            )
        if self.storage is not None and self.study_id is not None:
            self.storage.finalize_trial(self.study_id, trial.id, final)
        self._close(state, final)

    def _close(self, state: _TrialState, final: TrialStatus) -> None:
        state.status = final
        iteration = state.last_iteration if state.last_iteration is not None else 0
        if state.best is not None:
            _, objective, context = state.best
        else:
            objective, context = math.nan, {}
        self._table.add_row(
            state.trial.id, final.value, iteration, state.trial.parameters, objective, context
        )
        if (
            final is TrialStatus.COMPLETED
            and not math.isnan(objective)
            and (self._best is None or _is_better(objective, self._best[0], self.lower_is_better))
        ):
            self._best = (objective, state.trial.id)

    # Stopping

    def should_trial_stop(self, trial: Trial) -> bool:
        """Whether ``trial`` should stop: a stop was requested, or the stopping rule says so."""
        state = self._state_of(trial)
        if state.stop_requested:
            return True
        if self.stopping_rule is None:
            return False
        return bool(
            self.stopping_rule.should_trial_stop(trial, self.results, self.lower_is_better)
        )

    def request_stop(self, trial: Trial) -> None:
        """Ask for ``trial`` to stop; :meth:`should_trial_stop` is true from now on."""
        state = self._state_of(trial)
        if self.storage is not None and self.study_id is not None:
            self.storage.request_stop(self.study_id, trial.id)
        state.stop_requested = True

    # Results

    @property
    def results(self) -> pd.DataFrame:
        """The results table (see :mod:`sherpa.study._results` for its layout)."""
        return self._table.frame()

    @property
    def trials(self) -> list[Trial]:
        """Every trial of the study, by id."""
        return [self._trials[number].trial for number in sorted(self._trials)]

    def open_trial_ids(self) -> list[int]:
        """The ids of trials not yet finalized."""
        return sorted(n for n, s in self._trials.items() if not s.status.is_finished)

    def status_of(self, trial: Trial) -> TrialStatus:
        """The current status of ``trial``."""
        return self._state_of(trial).status

    def get_trial(self, trial_id: int) -> Trial:
        """The trial with id ``trial_id``.

        Raises:
            UnknownTrialError: the study has no such trial.
        """
        state = self._trials.get(trial_id)
        if state is None:
            raise UnknownTrialError(f"trial {trial_id} does not belong to this study")
        return state.trial

    def num_observations(self, trial: Trial) -> int:
        """How many observations ``trial`` has."""
        return len(self._state_of(trial).iterations)

    def last_iteration(self, trial: Trial) -> int | None:
        """The highest iteration ``trial`` has reported, or None before its first."""
        return self._state_of(trial).last_iteration

    def best_observation(self, trial: Trial) -> tuple[int, float, dict[str, Any]] | None:
        """``(iteration, objective, context)`` of the trial's best observation, if any."""
        return self._state_of(trial).best

    def num_finished(self) -> int:
        """How many trials have been finalized."""
        return sum(1 for s in self._trials.values() if s.status.is_finished)

    def best_objective(self) -> tuple[float, int] | None:
        """The best objective of a completed trial and that trial's id, kept incrementally."""
        return self._best

    def get_best_result(self) -> dict[str, Any]:
        """Return the best completed result as a dict of its results row (empty when none)."""
        return dict(
            self.algorithm.get_best_result(self.parameters, self.results, self.lower_is_better)
        )

    def save(self, output_dir: str | os.PathLike[str] | None = None) -> Path:
        """Write ``results.csv`` into ``output_dir`` (default: the study's ``output_dir``).

        The file is replaced atomically, so a reader never sees half of it.

        Returns:
            The path written.

        Raises:
            ValueError: neither ``output_dir`` nor the study's ``output_dir`` is set.
        """
        target = Path(output_dir) if output_dir is not None else self.output_dir
        if target is None:
            raise ValueError("save: output_dir is None and the study has no output_dir")
        target.mkdir(parents=True, exist_ok=True)
        path = target / RESULTS_FILENAME
        partial = target / f".{RESULTS_FILENAME}.{os.getpid()}.tmp"
        self.results.to_csv(partial, index=False)
        os.replace(partial, path)
        return path

    def keras_callback(
        self, trial: Trial, objective_name: str, context_names: Sequence[str] = ()
    ) -> Any:
        """Return a Keras callback that records ``logs[objective_name]`` after every epoch."""
        self._state_of(trial)

        def report(iteration: int, objective: float, context: dict[str, Any]) -> None:
            self.add_observation(trial, objective, iteration=iteration, context=context)

        return make_keras_callback(report, objective_name, context_names)

    # Loading

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        study_name: str | None = None,
        algorithm: Algorithm | None = None,
    ) -> Study:
        """Rebuild a study from its store: trials, statuses, observations and results.

        Args:
            path: An output directory holding ``sherpa.db``, the database file itself, or a
                database URL.
            study_name: Which study of the store (default: the newest).
            algorithm: The algorithm of the rebuilt study (default: one that suggests nothing).

        Raises:
            StorageUnreachableError: there is no store at ``path``.
        """
        from sherpa.algorithms import Iterate
        from sherpa.storage import SQLStorage

        storage = SQLStorage(_store_url(path))
        record = storage.get_study(study_name)
        study = cls(
            [Parameter.from_dict(d) for d in record.parameters],
            algorithm if algorithm is not None else Iterate([]),
            record.lower_is_better,
            disable_dashboard=True,
            output_dir=Path(path) if Path(path).is_dir() else None,
        )
        study.storage = storage
        study._attach(record)
        return study

    def _attach(self, record: StudyRecord) -> None:
        if self.storage is None:
            raise SherpaError("a study without a store cannot be attached to a stored study")
        self.study_id, self.name = record.id, record.name
        trial_records = self.storage.read_trials(record.id)
        for trial_record in trial_records:
            self._register(Trial(id=trial_record.number, parameters=trial_record.parameters))
            self._trials[trial_record.number].stop_requested = trial_record.stop_requested
        # Replay observations and final statuses in the order they happened, so the rebuilt
        # table has the rows in the same order as the live one.
        events: list[tuple[float, int, int, Any]] = [
            (o.created_at, 0, o.id, o) for o in self.storage.read_observations(record.id)
        ]
        events += [
            (t.finished_at or math.inf, 1, t.number, t)
            for t in trial_records
            if t.status.is_finished
        ]
        for _, kind, _, item in sorted(events, key=lambda e: e[:3]):
            if kind == 0:
                self.ingest(item)
            else:
                self._close(self._trials[item.number], item.status)

    @staticmethod
    def load_dashboard(path: str | os.PathLike[str]) -> Study:
        """Load a finished or running study from ``path`` and serve its dashboard.

        The dashboard serves the live store, so a running study's new trials appear in it;
        it stops with :meth:`close` or when this process ends (use
        :func:`sherpa.run_dashboard` to serve until interrupted).

        Returns:
            The loaded study (see :meth:`load`).
        """
        study = Study.load(path)
        study.disable_dashboard = False
        from sherpa.dashboard._launch import start_for_study

        study._dashboard = start_for_study(study)
        return study

    @property
    def dashboard_url(self) -> str | None:
        """The address of the study's dashboard, with its token; None when none is served."""
        server = getattr(self, "_dashboard", None)
        return None if server is None else server.url

    def close(self) -> None:
        """Stop the study's dashboard, if it serves one; the store stays open."""
        server = getattr(self, "_dashboard", None)
        if server is not None:
            server.stop()
            self._dashboard = None

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Study(name={self.name!r}, trials={len(self._trials)}, "
            f"algorithm={type(self.algorithm).__name__}, lower_is_better={self.lower_is_better})"
        )


def _store_url(path: str | os.PathLike[str]) -> str:
    from sherpa.exceptions import StorageUnreachableError
    from sherpa.storage._locate import resolve_store_url

    try:
        return resolve_store_url(path)
    except StorageUnreachableError as exc:
        if (Path(path) / "results.csv").is_file():
            raise StorageUnreachableError(
                f"{exc}; Study.save writes only results.csv: create the study with "
                "storage=... to be able to load it"
            ) from None
        raise


def _open_storage(storage: SQLStorage | str | None) -> SQLStorage | None:
    if storage is None:
        return None
    from sherpa.storage import SQLStorage

    if isinstance(storage, SQLStorage):
        return storage
    if isinstance(storage, str):
        return SQLStorage(storage)
    raise TypeError(f"storage must be an SQLStorage, a database URL or None; got {storage!r}")
