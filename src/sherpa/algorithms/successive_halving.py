"""SHERPA's module path ``sherpa.algorithms.successive_halving``, for code written against it."""

from __future__ import annotations

from sherpa.algorithms._successive_halving import SuccessiveHalving

__all__ = ["SuccessiveHalving"]
