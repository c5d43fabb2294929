"""The search space: :class:`Continuous`, :class:`Discrete`, :class:`Choice`, :class:`Ordinal`.

Each parameter validates its definition when it is built and samples plain Python values
(``float``, ``int`` or the choice itself), never numpy scalars. This module does not import
numpy: trial processes import ``sherpa`` and must start fast; samplers hand in a
``numpy.random.Generator``.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa._convert import to_builtin

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Choice", "Continuous", "Discrete", "Ordinal", "Parameter", "validate_parameters"]

_SCALES = ("linear", "log")


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"parameter name must be a string; got {name!r} ({type(name).__name__})")
    if not name:
        raise ValueError("parameter name must not be empty")
    return name


def _check_scale(name: str, scale: object) -> str:
    if scale not in _SCALES:
        raise ValueError(f"parameter {name!r}: scale must be 'linear' or 'log'; got {scale!r}")
    return str(scale)


def _check_sequence(name: str, values: object) -> list[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(
            f"parameter {name!r}: range must be a list of values; got {values!r} "
            f"({type(values).__name__})"
        )
    listed = [to_builtin(v) for v in values]
    if not listed:
        raise ValueError(f"parameter {name!r}: range must not be empty; got {values!r}")
    return listed


def _check_bounds(name: str, bounds: object) -> tuple[Any, Any]:
    if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise TypeError(f"parameter {name!r}: range must be [low, high]; got {bounds!r}")
    low, high = (to_builtin(b) for b in bounds)
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real):
            raise TypeError(
                f"parameter {name!r}: range bounds must be numbers; got {bound!r} "
                f"({type(bound).__name__}) in {bounds!r}"
            )
        if not math.isfinite(bound):
            raise ValueError(f"parameter {name!r}: range bounds must be finite; got {bounds!r}")
    if low > high:
        raise ValueError(f"parameter {name!r}: range low must not exceed high; got {bounds!r}")
    return low, high


RESULTS_COLUMNS = frozenset({"Trial-ID", "Status", "Iteration", "Objective"})
"""The columns every results table has; neither a parameter nor a context key may use them."""


def _generator(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng``, or a new unseeded generator (SHERPA's ``sample()`` took none)."""
    if rng is not None:
        return rng
    import numpy as np

    return np.random.default_rng()


class Parameter:
    """Base class of the parameter types.

    Args:
        name: The key under which the value appears in ``trial.parameters``.
        range: The bounds or the values, depending on the type.
    """

    type: ClassVar[str] = ""

    def __init__(self, name: str, range: Any) -> None:  # noqa: A002 (SHERPA's name)
        self.name = _check_name(name)
        self.range: list[Any] = list(range)

    def sample(self, rng: np.random.Generator | None = None) -> Any:
        """Draw one value uniformly (log-uniformly on log scale).

        Args:
            rng: The generator to draw from; None draws from a new unseeded generator (as
                SHERPA's ``sample()`` took none), so pass one for repeatable draws.
        """
        raise NotImplementedError

    def check_value(self, value: Any, where: str) -> Any:
        """Return ``value`` as this parameter holds it, if the parameter can take it.

        Numbers come back as ``float`` (``int`` for :class:`Discrete`); a choice as itself.

        Args:
            value: The candidate value.
            where: How error messages name the value, e.g. ``"seed_configuration['lr']"``.

        Raises:
            TypeError: a number was expected.
            ValueError: the value is out of range, not an integer, or not one of the values.
        """
        raise NotImplementedError

    def grid_points(self, num_points: int) -> list[Any]:
        """Return the values a grid search visits for this parameter."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as a dict that :meth:`from_dict` reads back."""
        return {"name": self.name, "type": self.type, "range": list(self.range)}

    @staticmethod
    def from_dict(config: Mapping[str, Any]) -> Parameter:
        """Build a parameter from a dict.

        Args:
            config: Keys ``name``, ``type`` (``continuous``, ``discrete``, ``choice`` or
                ``ordinal``), ``range`` and, for numeric types, optionally ``scale``.

        Example:
            >>> Parameter.from_dict({"name": "lr", "type": "continuous", "range": [1e-4, 1e-1],
            ...                      "scale": "log"})
            Continuous(name='lr', range=[0.0001, 0.1], scale='log')
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a dict; got {config!r} ({type(config).__name__})")
        missing = [key for key in ("name", "type", "range") if key not in config]
        if missing:
            raise ValueError(f"config is missing {', '.join(missing)}: {dict(config)!r}")
        kind = config["type"]
        classes: dict[str, type[Parameter]] = {
            cls.type: cls for cls in (Continuous, Discrete, Choice, Ordinal)
        }
        if not isinstance(kind, str) or kind.lower() not in classes:
            raise ValueError(
                f"parameter {config['name']!r}: type must be one of {', '.join(classes)}; "
                f"got {kind!r}"
            )
        unknown = set(config) - {"name", "type", "range", "scale"}
        if unknown:
            raise ValueError(
                f"parameter {config['name']!r}: unknown keys {sorted(unknown)!r} in "
                f"{dict(config)!r}"
            )
        cls = classes[kind.lower()]
        if "scale" in config:
            if not issubclass(cls, _NumericParameter):
                raise ValueError(
                    f"parameter {config['name']!r}: scale applies only to continuous and "
                    f"discrete parameters; got scale={config['scale']!r} for type {kind!r}"
                )
            return cls(config["name"], config["range"], scale=config["scale"])
        return cls(config["name"], config["range"])

    @staticmethod
    def grid(parameter_grid: Mapping[str, Iterable[Any]]) -> list[Parameter]:
        """Turn ``{name: [values...]}`` into a list of :class:`Choice` parameters.

        Example:
            >>> [p.name for p in Parameter.grid({"units": [32, 64], "act": ["relu", "tanh"]})]
            ['units', 'act']
        """
        if not isinstance(parameter_grid, Mapping):
            raise TypeError(
                f"parameter_grid must be a dict of name to values; got {parameter_grid!r}"
            )
        return [Choice(name, values) for name, values in parameter_grid.items()]

    def _repr_fields(self) -> str:
        return f"name={self.name!r}, range={self.range!r}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_fields()})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Parameter):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))


class _NumericParameter(Parameter):
    def __init__(self, name: str, range: Any, scale: str = "linear") -> None:  # noqa: A002
        name = _check_name(name)
        low, high = _check_bounds(name, range)
        self.scale = _check_scale(name, scale)
        if self.scale == "log" and low <= 0:
            raise ValueError(
                f"parameter {name!r}: log scale needs bounds above 0; got range={list(range)!r}"
            )
        super().__init__(name, self._convert_bounds(name, low, high))

    def _convert_bounds(self, name: str, low: Any, high: Any) -> list[Any]:
        return [float(low), float(high)]

    @property
    def low(self) -> Any:
        """The lower bound."""
        return self.range[0]

    @property
    def high(self) -> Any:
        """The upper bound."""
        return self.range[1]

    def check_value(self, value: Any, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a number; got {value!r} ({type(value).__name__})")
        number = float(value)
        if not self.range[0] <= number <= self.range[1]:
            raise ValueError(f"{where} must lie in {self.range!r}; got {value!r}")
        if self.type == "discrete":
            if not number.is_integer():
                raise ValueError(f"{where} must be an integer; got {value!r}")
            return int(number)
        return number

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "scale": self.scale}

    def _repr_fields(self) -> str:
        return f"{super()._repr_fields()}, scale={self.scale!r}"


class Continuous(_NumericParameter):
    """A real-valued parameter on ``[low, high]``.

    Args:
        name: The parameter's key.
        range: ``[low, high]``.
        scale: ``'linear'`` (uniform) or ``'log'`` (log-uniform; both bounds above 0).

    Example:
        >>> Continuous("learning_rate", [1e-4, 1e-1], scale="log")
        Continuous(name='learning_rate', range=[0.0001, 0.1], scale='log')
    """

    type = "continuous"

    def __init__(self, name: str, range: Any, scale: str = "linear") -> None:  # noqa: A002
        super().__init__(name, range, scale)

    def sample(self, rng: np.random.Generator | None = None) -> float:
        rng = _generator(rng)
        low, high = self.range
        if self.scale == "log":
            value = math.exp(float(rng.uniform(math.log(low), math.log(high))))
        else:
            value = float(rng.uniform(low, high))
        return float(min(max(value, low), high))

    def grid_points(self, num_points: int) -> list[float]:
        low, high = self.range
        if num_points == 1 or low == high:
            return [self._midpoint()]
        if self.scale == "log":
            step = (math.log(high) - math.log(low)) / (num_points - 1)
            points = [math.exp(math.log(low) + i * step) for i in range(num_points)]
        else:
            points = [low + i * (high - low) / (num_points - 1) for i in range(num_points)]
        points[0], points[-1] = low, high
        return points

    def _midpoint(self) -> float:
        low, high = self.range
        if self.scale == "log":
            return float(math.sqrt(low * high))
        return float((low + high) / 2)


class Discrete(_NumericParameter):
    """An integer parameter on ``[low, high]``, both bounds included.

    Args:
        name: The parameter's key.
        range: ``[low, high]``, integers.
        scale: ``'linear'`` or ``'log'`` (each integer weighted by the log-width of its cell).

    Example:
        >>> Discrete("num_units", [32, 512], scale="log")
        Discrete(name='num_units', range=[32, 512], scale='log')
    """

    type = "discrete"

    def __init__(self, name: str, range: Any, scale: str = "linear") -> None:  # noqa: A002
        super().__init__(name, range, scale)

    def _convert_bounds(self, name: str, low: Any, high: Any) -> list[Any]:
        for bound in (low, high):
            if float(bound) != int(bound):
                raise ValueError(
                    f"parameter {name!r}: discrete bounds must be integers; got "
                    f"range={[low, high]!r}"
                )
        return [int(low), int(high)]

    def sample(self, rng: np.random.Generator | None = None) -> int:
        rng = _generator(rng)
        low, high = self.range
        if self.scale == "log":
            value = math.floor(math.exp(rng.uniform(math.log(low), math.log(high + 1))))
        else:
            value = int(rng.integers(low, high + 1))
        return int(min(max(value, low), high))

    def grid_points(self, num_points: int) -> list[int]:
        low, high = self.range
        if num_points == 1 or low == high:
            mid = math.sqrt(low * high) if self.scale == "log" else (low + high) / 2
            return [round(mid)]
        continuous = Continuous(self.name, [low, high], scale=self.scale)
        points: list[int] = []
        for point in continuous.grid_points(num_points):
            rounded = round(point)
            if rounded not in points:
                points.append(rounded)
        return points


class _ListParameter(Parameter):
    def __init__(self, name: str, range: Any) -> None:  # noqa: A002 (SHERPA's name)
        name = _check_name(name)
        super().__init__(name, _check_sequence(name, range))

    def sample(self, rng: np.random.Generator | None = None) -> Any:
        rng = _generator(rng)
        return self.range[int(rng.integers(len(self.range)))]

    def check_value(self, value: Any, where: str) -> Any:
        for candidate in self.range:
            if value == candidate and type(value) is type(candidate):
                return candidate
        for candidate in self.range:  # 2 for 2.0 and the like, but never True for 1
            if (
                value == candidate
                and not isinstance(value, bool)
                and not isinstance(candidate, bool)
            ):
                return candidate
        raise ValueError(f"{where} must be one of {self.range!r}; got {value!r}")

    def grid_points(self, num_points: int) -> list[Any]:
        return list(self.range)


class Choice(_ListParameter):
    """One of a set of unordered values (strings, numbers, booleans, even lists).

    Example:
        >>> Choice("activation", ["relu", "tanh"])
        Choice(name='activation', range=['relu', 'tanh'])
    """

    type = "choice"

    def __init__(self, name: str, range: Any) -> None:  # noqa: A002 (SHERPA's name)
        super().__init__(name, range)


class Ordinal(_ListParameter):
    """One of a list of ordered values; algorithms may treat neighbours as close.

    Example:
        >>> Ordinal("batch_size", [16, 32, 64, 128])
        Ordinal(name='batch_size', range=[16, 32, 64, 128])
    """

    type = "ordinal"

    def __init__(self, name: str, range: Any) -> None:  # noqa: A002 (SHERPA's name)
        super().__init__(name, range)


def validate_parameters(parameters: object) -> list[Parameter]:
    """Check a study's list of parameters and return it as a list.

    Raises:
        TypeError: ``parameters`` is not a list of :class:`Parameter`.
        ValueError: the list is empty, or two parameters share a name.
    """
    if isinstance(parameters, (str, bytes, Mapping)) or not isinstance(parameters, Iterable):
        raise TypeError(
            f"parameters must be a list of sherpa parameters; got {parameters!r} "
            f"({type(parameters).__name__})"
        )
    listed = list(parameters)
    if not listed:
        raise ValueError("parameters must name at least one parameter; got an empty list")
    for parameter in listed:
        if not isinstance(parameter, Parameter):
            raise TypeError(
                f"parameters must hold sherpa parameters (Continuous, Discrete, Choice, "
                f"Ordinal); got {parameter!r} ({type(parameter).__name__})"
            )
    names = [p.name for p in listed]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"parameters: duplicate names {duplicates!r}")
    for name in names:
        if name in RESULTS_COLUMNS:
            raise ValueError(
                f"parameter name {name!r} is a column of the results table "
                f"({', '.join(sorted(RESULTS_COLUMNS))}); rename the parameter"
            )
    return listed


def grid_of(parameters: Sequence[Parameter], num_points: int) -> Iterable[dict[str, Any]]:
    """Yield every configuration of the grid over ``parameters``, in order."""
    axes = [p.grid_points(num_points) for p in parameters]
    for values in itertools.product(*axes):
        yield {p.name: v for p, v in zip(parameters, values, strict=True)}
