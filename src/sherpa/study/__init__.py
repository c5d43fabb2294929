"""The study: the in-process face of a search, and the results table it keeps."""

from __future__ import annotations

from sherpa.study._study import Study

__all__ = ["Study"]
