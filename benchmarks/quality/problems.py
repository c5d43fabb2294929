"""The tuning problems of the quality benchmark: scikit-learn models and synthetic functions.

Each :class:`Problem` has a name, a kind (``"sklearn"`` or ``"synthetic"``), its sherpa
search space (:meth:`Problem.parameters`), the same space as Optuna suggest calls
(:meth:`Problem.suggest`: same ranges, log flags, integer and categorical types) and an
objective to minimize (:meth:`Problem.evaluate`).

The scikit-learn problems use only data sets that ship inside scikit-learn (nothing is
downloaded), three fixed cross-validation folds and ``n_jobs=1``; models are seeded, so an
objective is a deterministic function of the configuration. The objective is the
cross-validated error (1 - accuracy) for classifiers and the cross-validated RMSE for
regressors. One evaluation takes about 0.02 to 0.3 s on one core.

Sherpa's parameter types map to Optuna's as follows: ``Continuous`` to ``suggest_float``,
``Discrete`` to ``suggest_int``, a numeric ``Ordinal`` to ``suggest_int`` over the same
consecutive integers (Optuna has no ordinal type; an integer is ordered too), ``Choice`` to
``suggest_categorical``; ``scale="log"`` to ``log=True``. :func:`check_equivalent` checks
this for every problem.

The conditional MLP problem suggests every layer's width on both sides, also widths a
configuration with fewer layers does not use (the objective ignores them): sherpa's spaces
are flat, and Optuna's GPSampler samples parameters outside the intersection of the trials'
spaces at random, so a define-by-run conditional space would compare a different problem.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

import sherpa

if TYPE_CHECKING:
    import optuna

__all__ = ["PROBLEMS", "Problem", "check_equivalent", "get_problems"]

FOLDS = 3
SEED = 0
DIGITS_SAMPLES = 600


@dataclasses.dataclass(frozen=True)
class Problem:
    """One tuning problem: a search space on both libraries and an objective to minimize."""

    name: str
    kind: str
    """``"sklearn"`` or ``"synthetic"``."""
    make_parameters: Callable[[], list[sherpa.Parameter]]
    suggest: Callable[[optuna.Trial], dict[str, Any]]
    """Ask an Optuna trial for a configuration; returns the configuration."""
    evaluate: Callable[[dict[str, Any]], float]
    description: str

    def parameters(self) -> list[sherpa.Parameter]:
        """A fresh copy of the sherpa search space."""
        return self.make_parameters()


# Data and cross-validation


@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if name == "digits":
        x, y = datasets.load_digits(return_X_y=True)
        x, _, y, _ = train_test_split(
            x, y, train_size=DIGITS_SAMPLES, stratify=y, random_state=SEED
        )
        return x / 16.0, y
    loaders = {
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }
    x, y = loaders[name](return_X_y=True)
    return np.asarray(x, dtype=float), np.asarray(y)


def _cv_error(model: Any, data: str) -> float:
    """1 - mean accuracy over fixed stratified folds."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = _data(data)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(model, x, y, cv=folds, n_jobs=1, error_score=0.0)
    return float(1.0 - np.mean(scores))


def _cv_rmse(model: Any, data: str) -> float:
    """Mean RMSE over fixed folds."""
    from sklearn.model_selection import KFold, cross_val_score

    x, y = _data(data)
    folds = KFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(
            model, x, y, cv=folds, n_jobs=1, scoring="neg_root_mean_squared_error"
        )
    return float(-np.mean(scores))


def _scaled(model: Any) -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), model)


# scikit-learn problems


def _svc_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("C", [1e-2, 1e3], scale="log"),
        sherpa.Continuous("gamma", [1e-5, 1e0], scale="log"),
    ]


def _svc_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "C": trial.suggest_float("C", 1e-2, 1e3, log=True),
        "gamma": trial.suggest_float("gamma", 1e-5, 1e0, log=True),
    }


def _svc_evaluate(config: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    return _cv_error(SVC(C=config["C"], gamma=config["gamma"]), "digits")


def _hgb_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("learning_rate", [1e-3, 1.0], scale="log"),
        sherpa.Discrete("max_leaf_nodes", [2, 64]),
        sherpa.Continuous("l2_regularization", [0.0, 10.0]),
        sherpa.Discrete("min_samples_leaf", [1, 50]),
        sherpa.Discrete("max_iter", [10, 60]),
    ]


def _hgb_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1.0, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 2, 64),
        "l2_regularization": trial.suggest_float("l2_regularization", 0.0, 10.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 50),
        "max_iter": trial.suggest_int("max_iter", 10, 60),
    }


def _hgb_evaluate(config: dict[str, Any]) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=config["learning_rate"],
        max_leaf_nodes=config["max_leaf_nodes"],
        l2_regularization=config["l2_regularization"],
        min_samples_leaf=config["min_samples_leaf"],
        max_iter=config["max_iter"],
        early_stopping=False,
        random_state=SEED,
    )
    return _cv_error(model, "breast_cancer")


def _rf_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Discrete("n_estimators", [5, 40]),
        sherpa.Discrete("max_depth", [1, 12]),
        sherpa.Continuous("max_features", [0.05, 1.0]),
        sherpa.Discrete("min_samples_leaf", [1, 20]),
        sherpa.Choice("criterion", ["gini", "entropy"]),
    ]


def _rf_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 5, 40),
        "max_depth": trial.suggest_int("max_depth", 1, 12),
        "max_features": trial.suggest_float("max_features", 0.05, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20),
        "criterion": trial.suggest_categorical("criterion", ["gini", "entropy"]),
    }


def _rf_evaluate(config: dict[str, Any]) -> float:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(
        n_estimators=config["n_estimators"],
        max_depth=config["max_depth"],
        max_features=config["max_features"],
        min_samples_leaf=config["min_samples_leaf"],
        criterion=config["criterion"],
        n_jobs=1,
        random_state=SEED,
    )
    return _cv_error(model, "wine")


_MLP_WIDTHS = ("width_1", "width_2", "width_3")


def _mlp_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Choice("n_layers", [1, 2, 3]),
        *(sherpa.Discrete(name, [8, 128], scale="log") for name in _MLP_WIDTHS),
        sherpa.Choice("activation", ["relu", "tanh", "logistic"]),
        sherpa.Continuous("alpha", [1e-6, 1e-1], scale="log"),
        sherpa.Continuous("learning_rate_init", [1e-4, 1e-1], scale="log"),
    ]


def _mlp_suggest(trial: optuna.Trial) -> dict[str, Any]:
    config: dict[str, Any] = {"n_layers": trial.suggest_categorical("n_layers", [1, 2, 3])}
    for name in _MLP_WIDTHS:
        config[name] = trial.suggest_int(name, 8, 128, log=True)
    config["activation"] = trial.suggest_categorical("activation", ["relu", "tanh", "logistic"])
    config["alpha"] = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    config["learning_rate_init"] = trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True)
    return config


def _mlp_evaluate(config: dict[str, Any]) -> float:
    from sklearn.neural_network import MLPClassifier

    layers = tuple(int(config[name]) for name in _MLP_WIDTHS[: int(config["n_layers"])])
    model = MLPClassifier(
        hidden_layer_sizes=layers,
        activation=config["activation"],
        alpha=config["alpha"],
        learning_rate_init=config["learning_rate_init"],
        max_iter=15,
        random_state=SEED,
    )
    return _cv_error(model, "digits")


def _svr_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("C", [1e-1, 1e4], scale="log"),
        sherpa.Continuous("epsilon", [1e-2, 1e2], scale="log"),
        sherpa.Continuous("gamma", [1e-4, 1e0], scale="log"),
    ]


def _svr_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "C": trial.suggest_float("C", 1e-1, 1e4, log=True),
        "epsilon": trial.suggest_float("epsilon", 1e-2, 1e2, log=True),
        "gamma": trial.suggest_float("gamma", 1e-4, 1e0, log=True),
    }


def _svr_evaluate(config: dict[str, Any]) -> float:
    from sklearn.svm import SVR

    model = _scaled(SVR(C=config["C"], epsilon=config["epsilon"], gamma=config["gamma"]))
    return _cv_rmse(model, "diabetes")


def _elasticnet_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Continuous("alpha", [1e-4, 1e1], scale="log"),
        sherpa.Continuous("l1_ratio", [0.0, 1.0]),
    ]


def _elasticnet_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "alpha": trial.suggest_float("alpha", 1e-4, 1e1, log=True),
        "l1_ratio": trial.suggest_float("l1_ratio", 0.0, 1.0),
    }


def _elasticnet_evaluate(config: dict[str, Any]) -> float:
    from sklearn.linear_model import ElasticNet
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    # Degree-2 features make the regularization matter (plain ElasticNet on diabetes is flat).
    model = _scaled(ElasticNet(alpha=config["alpha"], l1_ratio=config["l1_ratio"], max_iter=2000))
    return _cv_rmse(make_pipeline(PolynomialFeatures(2, include_bias=False), model), "diabetes")


def _knn_parameters() -> list[sherpa.Parameter]:
    return [
        sherpa.Discrete("n_neighbors", [1, 60]),
        sherpa.Choice("weights", ["uniform", "distance"]),
        sherpa.Ordinal("p", [1, 2, 3]),
        sherpa.Choice("scaler", ["none", "standard", "minmax"]),
    ]


def _knn_suggest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 60),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        "p": trial.suggest_int("p", 1, 3),
        "scaler": trial.suggest_categorical("scaler", ["none", "standard", "minmax"]),
    }


def _knn_evaluate(config: dict[str, Any]) -> float:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    model = KNeighborsClassifier(
        n_neighbors=config["n_neighbors"], weights=config["weights"], p=config["p"], n_jobs=1
    )
    scalers: dict[str, Any] = {"standard": StandardScaler(), "minmax": MinMaxScaler()}
    if config["scaler"] in scalers:
        model = make_pipeline(scalers[config["scaler"]], model)
    return _cv_error(model, "breast_cancer")


# Synthetic functions


def _branin(x: Sequence[float]) -> float:
    x1, x2 = x
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_HARTMANN_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def _hartmann6(x: Sequence[float]) -> float:
    inner = np.sum(_HARTMANN_A * (np.asarray(x) - _HARTMANN_P) ** 2, axis=1)
    return float(-np.sum(_HARTMANN_ALPHA * np.exp(-inner)))


def _rosenbrock(x: Sequence[float]) -> float:
    v = np.asarray(x)
    return float(np.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2))


def _ackley(x: Sequence[float]) -> float:
    v = np.asarray(x)
    d = v.size
    return float(
        -20.0 * math.exp(-0.2 * math.sqrt(float(np.sum(v**2)) / d))
        - math.exp(float(np.sum(np.cos(2 * math.pi * v))) / d)
        + 20.0
        + math.e
    )


def _box(
    name: str,
    function: Callable[[Sequence[float]], float],
    bounds: Sequence[tuple[float, float]],
    description: str,
) -> Problem:
    names = [f"x{i + 1}" for i in range(len(bounds))]

    def make_parameters() -> list[sherpa.Parameter]:
        return [sherpa.Continuous(n, [lo, hi]) for n, (lo, hi) in zip(names, bounds, strict=True)]

    def suggest(trial: optuna.Trial) -> dict[str, Any]:
        return {
            n: trial.suggest_float(n, lo, hi) for n, (lo, hi) in zip(names, bounds, strict=True)
        }

    def evaluate(config: dict[str, Any]) -> float:
        return function([float(config[n]) for n in names])

    return Problem(name, "synthetic", make_parameters, suggest, evaluate, description)


def _all_problems() -> list[Problem]:
    problems = [
        Problem(
            "svc_digits",
            "sklearn",
            _svc_parameters,
            _svc_suggest,
            _svc_evaluate,
            f"SVC (RBF) on {DIGITS_SAMPLES} digits: C, gamma (log); error",
        ),
        Problem(
            "hgb_breast_cancer",
            "sklearn",
            _hgb_parameters,
            _hgb_suggest,
            _hgb_evaluate,
            "HistGradientBoosting on breast_cancer: learning_rate (log), max_leaf_nodes, "
            "l2_regularization, min_samples_leaf, max_iter 10-60; error",
        ),
        Problem(
            "rf_wine",
            "sklearn",
            _rf_parameters,
            _rf_suggest,
            _rf_evaluate,
            "RandomForest on wine: n_estimators 5-40, max_depth, max_features (fraction), "
            "min_samples_leaf, criterion; error",
        ),
        Problem(
            "mlp_digits",
            "sklearn",
            _mlp_parameters,
            _mlp_suggest,
            _mlp_evaluate,
            f"MLP on {DIGITS_SAMPLES} digits, 15 epochs: n_layers (Choice 1-3) with per-layer "
            "widths (log, used only up to n_layers), activation, alpha, learning_rate_init "
            "(log); error",
        ),
        Problem(
            "svr_diabetes",
            "sklearn",
            _svr_parameters,
            _svr_suggest,
            _svr_evaluate,
            "SVR (RBF, standardized) on diabetes: C, epsilon, gamma (log); RMSE",
        ),
        Problem(
            "elasticnet_diabetes",
            "sklearn",
            _elasticnet_parameters,
            _elasticnet_suggest,
            _elasticnet_evaluate,
            "ElasticNet on degree-2 features of diabetes: alpha (log), l1_ratio; RMSE",
        ),
        Problem(
            "knn_breast_cancer",
            "sklearn",
            _knn_parameters,
            _knn_suggest,
            _knn_evaluate,
            "kNN on breast_cancer: n_neighbors 1-60, weights (Choice), p (Ordinal 1-3), "
            "scaler (Choice); error",
        ),
        _box("branin", _branin, [(-5.0, 10.0), (0.0, 15.0)], "Branin (2-D); min 0.398"),
        _box("hartmann6", _hartmann6, [(0.0, 1.0)] * 6, "Hartmann-6 (unit box); min -3.32"),
    ]
    for d in (2, 5, 10):
        problems.append(
            _box(f"rosenbrock{d}", _rosenbrock, [(-5.0, 10.0)] * d, f"Rosenbrock {d}-D; min 0")
        )
    for d in (2, 5, 10):
        problems.append(
            _box(f"ackley{d}", _ackley, [(-32.768, 32.768)] * d, f"Ackley {d}-D; min 0")
        )
    return problems


PROBLEMS: dict[str, Problem] = {p.name: p for p in _all_problems()}
"""Every problem by name."""


def get_problems(names: Sequence[str] | None = None) -> list[Problem]:
    """The problems with these names (all when None); ``sklearn`` / ``synthetic`` name a kind."""
    if not names:
        return list(PROBLEMS.values())
    chosen: list[Problem] = []
    for name in names:
        if name in ("sklearn", "synthetic"):
            chosen.extend(p for p in PROBLEMS.values() if p.kind == name)
        elif name in PROBLEMS:
            chosen.append(PROBLEMS[name])
        else:
            raise ValueError(f"unknown problem {name!r}; known: {', '.join(PROBLEMS)}")
    return list(dict.fromkeys(chosen))


def check_equivalent(problem: Problem) -> None:
    """Raise AssertionError unless the Optuna suggest calls match the sherpa space."""
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    problem.suggest(trial)
    distributions = trial.distributions
    parameters = problem.parameters()
    assert [p.name for p in parameters] == list(distributions), problem.name
    for p in parameters:
        dist = distributions[p.name]
        if isinstance(p, sherpa.Continuous):
            assert isinstance(dist, optuna.distributions.FloatDistribution), p
            assert (dist.low, dist.high, dist.log) == (*p.range, p.scale == "log"), p
        elif isinstance(p, sherpa.Discrete):
            assert isinstance(dist, optuna.distributions.IntDistribution), p
            assert (dist.low, dist.high, dist.log, dist.step) == (*p.range, p.scale == "log", 1)
        elif isinstance(p, sherpa.Ordinal):
            assert isinstance(dist, optuna.distributions.IntDistribution), p
            assert list(range(dist.low, dist.high + 1)) == list(p.range), p
        else:
            assert isinstance(dist, optuna.distributions.CategoricalDistribution), p
            assert list(dist.choices) == list(p.range), p
