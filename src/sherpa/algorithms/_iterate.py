"""Iterate over given configurations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sherpa.algorithms._base import Algorithm
from sherpa.parameters import Choice
from sherpa.trial import AlgorithmState

if TYPE_CHECKING:
    import pandas as pd

    from sherpa.parameters import Parameter

__all__ = ["Iterate"]


class Iterate(Algorithm):
    """Suggest the given configurations one after another, then end.

    Args:
        hp_iter: Configurations (dicts of parameter values). Values may be anything,
            including unhashable ones such as lists.
        seed: Accepted for uniformity; this algorithm draws no random numbers.

    Example:
        >>> import sherpa
        >>> algorithm = sherpa.algorithms.Iterate([{"layers": [64, 64]}, {"layers": [128]}])
        >>> algorithm.get_parameters()
        [Choice(name='layers', range=[[64, 64], [128]])]
    """

    requires_results: ClassVar[bool] = False

    def __init__(self, hp_iter: Iterable[Mapping[str, Any]], seed: int | None = None) -> None:
        super().__init__(seed=seed)
        if isinstance(hp_iter, (str, bytes, Mapping)) or not isinstance(hp_iter, Iterable):
            raise TypeError(f"hp_iter must be a list of dicts; got {hp_iter!r}")
        self.hp_iter = [self._check_config(i, c) for i, c in enumerate(hp_iter)]
        self.count = 0

    @staticmethod
    def _check_config(index: int, config: object) -> dict[str, Any]:
        if not isinstance(config, Mapping):
            raise TypeError(f"hp_iter[{index}] must be a dict; got {config!r}")
        return dict(config)

    def get_suggestion(
        self,
        parameters: Sequence[Parameter],
        results: pd.DataFrame | None = None,
        lower_is_better: bool = True,
    ) -> dict[str, Any] | AlgorithmState | None:
        if self.count >= len(self.hp_iter):
            return AlgorithmState.DONE
        config = dict(self.hp_iter[self.count])
        self.count += 1
        return config

    def planned_suggestions(self, parameters: Sequence[Parameter]) -> int | None:
        return len(self.hp_iter)

    def get_parameters(self) -> list[Parameter]:
        """Return one Choice per key, over the distinct values (by equality) that key takes."""
        values: dict[str, list[Any]] = {}
        for config in self.hp_iter:
            for name, value in config.items():
                seen = values.setdefault(name, [])
                if not any(value == other and type(value) is type(other) for other in seen):
                    seen.append(value)
        return [Choice(name, seen) for name, seen in values.items()]

    def __repr__(self) -> str:
        return f"Iterate(<{len(self.hp_iter)} configurations>)"
