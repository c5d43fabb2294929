"""SHERPA's ``sherpa.database`` module path: ``from sherpa.database import Client`` works.

SHERPA kept its MongoDB code here; sherpa's store is SQL (:mod:`sherpa.storage`), and the
trial side's :class:`~sherpa.client.Client` is the same class as ``sherpa.Client``.
"""

from __future__ import annotations

from sherpa.client import Client

__all__ = ["Client"]
