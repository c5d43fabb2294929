"""The runner: ``optimize`` ties the study, the store and a scheduler together."""

from __future__ import annotations

from sherpa.runner._optimize import optimize

__all__ = ["optimize"]
