"""``python -m sherpa``: the ``sherpa`` command line."""

from __future__ import annotations

from sherpa.cli import main

raise SystemExit(main())
