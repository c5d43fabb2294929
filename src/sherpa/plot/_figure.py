"""matplotlib, imported only when a plot is made, and the one way figures are saved."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["new_figure", "objective_colormap", "save_figure"]

DPI = 150


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "sherpa.plot needs matplotlib; install it with pip install 'sherpa[plot]'"
        ) from None
    # Without a display an interactive backend cannot start; choose the file-only Agg backend,
    # unless the user (MPLBACKEND, or an earlier pyplot import) has chosen already.
    chosen = "matplotlib.pyplot" in sys.modules or "MPLBACKEND" in os.environ
    if not chosen and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(width: float, height: float) -> Figure:
    """Return a new pyplot figure (so that ``plt.show()`` shows it) of the given size."""
    figure: Figure = _pyplot().figure(figsize=(width, height))
    return figure


def objective_colormap(lower_is_better: bool) -> str:
    """The colormap by objective: the best trials dark, the worst light."""
    return "viridis" if lower_is_better else "viridis_r"


def save_figure(figure: Figure, path: str | os.PathLike[str] | None) -> None:
    """Write ``figure`` to ``path`` (PNG, or the format its suffix names), if one is given.

    Raises:
        ValueError: the folder of ``path`` does not exist.
    """
    if path is None:
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise ValueError(f"path: the folder {str(target.parent)!r} does not exist; got {path!r}")
    figure.savefig(target, dpi=DPI, bbox_inches="tight")
