"""Checks and conversions of user values, shared by every part of the package.

No numpy import here: numpy values are recognised by their type's module.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "check_choice",
    "check_count",
    "check_flag",
    "check_iteration",
    "check_objective",
    "check_positive",
    "check_protocol",
    "check_seed",
    "dumps_json",
    "is_nan",
    "to_builtin",
    "to_jsonable",
]


def _is_numpy(value: object) -> bool:
    return type(value).__module__ == "numpy"


def to_builtin(value: Any) -> Any:
    """Return ``value`` with a numpy scalar turned into the matching Python scalar."""
    if _is_numpy(value) and hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        return value.item()
    return value


def to_jsonable(value: Any, *, where: str) -> Any:
    """Return ``value`` as JSON-ready Python (numpy scalars and arrays become numbers and lists).

    Args:
        value: The value to convert.
        where: Names the value in the error message, e.g. ``"context['acc']"``.

    Raises:
        TypeError: the value (or a part of it) cannot be stored as JSON.
    """
    value = to_builtin(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if _is_numpy(value) and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        converted = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be strings; got {key!r}")
            converted[key] = to_jsonable(item, where=f"{where}[{key!r}]")
        return converted
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item, where=f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"{where} must be a number, string, bool, None, list or dict; got {value!r} "
        f"({type(value).__name__})"
    )


def check_objective(objective: object) -> float:
    """Return ``objective`` as a float, rejecting anything that is not a real number.

    NaN is accepted (and stored); it is never chosen as the best result.

    Raises:
        TypeError: ``objective`` is None, a bool, a string, a sequence or another non-number.
    """
    objective = to_builtin(objective)
    if isinstance(objective, bool) or not isinstance(objective, numbers.Real):
        raise TypeError(
            f"objective must be a real number; got {objective!r} ({type(objective).__name__})"
        )
    return float(objective)


def check_iteration(iteration: object) -> int:
    """Return ``iteration`` as an int of at least 0.

    Raises:
        TypeError: not an integer.
        ValueError: negative.
    """
    iteration = to_builtin(iteration)
    if isinstance(iteration, bool) or not isinstance(iteration, numbers.Integral):
        if isinstance(iteration, float) and iteration.is_integer():
            iteration = int(iteration)
        else:
            raise TypeError(
                f"iteration must be an integer; got {iteration!r} ({type(iteration).__name__})"
            )
    if iteration < 0:
        raise ValueError(f"iteration must be 0 or more; got {iteration!r}")
    return int(iteration)


def check_protocol(name: str, value: object, method: str, expected: str) -> Any:
    """Return ``value`` if it is an object with a ``method`` (not a class); else a TypeError.

    Args:
        name: The argument, for the message.
        value: What was passed.
        method: The method the object must have, e.g. ``"get_suggestion"``.
        expected: What the argument should be, e.g. ``"sherpa.algorithms.Algorithm"``.
    """
    if isinstance(value, type):
        raise TypeError(
            f"{name} must be an instance of {expected}; got the class {value.__name__} "
            f"(did you mean {value.__name__}()?)"
        )
    if not callable(getattr(value, method, None)):
        raise TypeError(f"{name} must be a {expected}; got {value!r} ({type(value).__name__})")
    return value


def check_seed(seed: object, name: str = "seed") -> int | None:
    """Return ``seed`` as a non-negative int, or None."""
    if seed is None:
        return None
    seed = to_builtin(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"{name} must be a non-negative int or None; got {seed!r}")
    return int(seed)


def check_count(name: str, value: object, *, minimum: int, allow_none: bool = False) -> Any:
    """Return ``value`` as an int of at least ``minimum`` (or None when allowed)."""
    if value is None and allow_none:
        return None
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}; got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value!r}")
    return int(value)


def check_choice(name: str, value: object, accepted: Sequence[str]) -> str:
    """Return ``value`` if it is one of the ``accepted`` strings."""
    if not isinstance(value, str) or value not in accepted:
        listed = ", ".join(repr(a) for a in accepted)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a finite float above 0."""
    value = to_builtin(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r} ({type(value).__name__})")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number above 0; got {value!r}")
    return number


def check_flag(name: str, value: object) -> bool:
    """Return ``value`` if it is True or False."""
    value = to_builtin(value)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return value


def dumps_json(value: Any) -> str:
    """Serialize to compact JSON; NaN and infinities are kept (Python's JSON extension)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=True)


def is_nan(value: object) -> bool:
    """Whether ``value`` is a float NaN."""
    return isinstance(value, float) and math.isnan(value)
