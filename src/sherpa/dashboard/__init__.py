"""The dashboard: a local web page over a stored study, live while it runs.

``sherpa.optimize`` and :class:`sherpa.Study` (with a store) start one unless
``disable_dashboard=True``; :func:`run_dashboard` serves a running or finished study until
interrupted. It needs plotly.js, from ``pip install 'sherpa[dashboard]'``. See
``docs/dashboard.md``.
"""

from __future__ import annotations

from sherpa.dashboard._launch import run_dashboard, start_dashboard
from sherpa.dashboard._server import DashboardServer

__all__ = [
    "DashboardServer",
    "run_dashboard",
    "start_dashboard",
]
