"""The dashboard's web application: routing, the security rules, the JSON API, the page.

Framework-free on purpose: :class:`DashboardApp` turns a method, a request target and the
request headers into a :class:`Response`, so the rules below are tested without a socket and
the HTTP server (:mod:`sherpa.dashboard._server`) stays a thin adapter.

Rules, applied to every request before anything else:

- The ``Host`` header must name the served port and a name that DNS rebinding cannot forge:
  ``localhost``, an IP literal, the address the server listens on, or (when it listens on
  every interface) this machine's own host names. Anything else is refused with 403.
- Every ``/api/`` request must carry the per-run token in the ``X-Sherpa-Token`` header,
  compared in constant time. A browser page from another site cannot set that header
  without a CORS preflight, which this server never grants.
- State changes are POST only (a GET there answers 405); a POST with an ``Origin`` header
  must come from the served origin.
- Errors are JSON (``{"error": ...}``) with a 4xx status; an unexpected exception is logged
  and answered 500 with no traceback. Static files come from a fixed list of names, so no
  path reaches the file system.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib.resources
import ipaddress
import json
import math
import socket
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from sherpa.exceptions import SherpaError, TrialFinishedError, UnknownTrialError
from sherpa.logging import get_logger
from sherpa.parameters import Choice, Ordinal
from sherpa.trial import TrialStatus

if TYPE_CHECKING:
    from sherpa.dashboard._view import StudyView, TrialSummary

__all__ = ["TOKEN_HEADER", "ApiError", "DashboardApp", "Headers", "Response"]

_logger = get_logger(__name__)

TOKEN_HEADER = "X-Sherpa-Token"

MAX_PAGE = 1000
"""The most trials one table page may ask for."""

MAX_COLUMNS = 200_000
"""The most trials one columnar read (the parallel-coordinates data) returns."""

MAX_CURVES = 200
"""The most trials one curves request may name."""

ORDER_CACHE_SIZE = 16
"""How many sorted trial tables (one per query and study version) are kept."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""Sent with every response. Scripts come from this server only (no remote source, no inline
script). Plotly's WebGL plots (the parallel coordinates) compile their drawing code at run
time with ``Function``, hence ``'unsafe-eval'``; plotly also sets inline styles on what it
draws, hence ``'unsafe-inline'`` for styles."""

_STATIC = {
    "app.js": "application/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "plotly.min.js": "application/javascript; charset=utf-8",
}
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


class Headers(Protocol):
    """Request headers, looked up case-insensitively (``email.message.Message`` does)."""

    def get(self, name: str, /) -> str | None:
        """The header's value, or None."""


@dataclasses.dataclass
class Response:
    """What the server sends back: status, body and headers (security headers added)."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class ApiError(Exception):
    """A request the dashboard refuses; becomes a JSON error with ``status``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def json_response(payload: Any, status: int = 200) -> Response:
    """A JSON response; non-finite numbers become null."""
    try:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    except ValueError:
        body = json.dumps(_json_safe(payload), allow_nan=False, separators=(",", ":"))
    return Response(status, body.encode(), headers={"Cache-Control": "no-store"})


def _static_bytes(name: str) -> bytes:
    if name == "plotly.min.js":
        resource = importlib.resources.files("plotly").joinpath("package_data/plotly.min.js")
    else:
        resource = importlib.resources.files("sherpa.dashboard").joinpath(f"static/{name}")
    return resource.read_bytes()


# Query parameters


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, f"{name} may be given once; got {values!r}")
    return values[0]


def _int_arg(
    query: Mapping[str, list[str]], name: str, default: int | None, low: int, high: int
) -> int:
    raw = _one(query, name)
    if raw is None:
        if default is None:
            raise ApiError(400, f"{name} is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer; got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}; got {value}")
    return value


def _trial_number(raw: str) -> int:
    # isdigit() alone also passes digits int() refuses, such as '²'.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise ApiError(400, f"trial id must be a positive integer; got {raw!r}")
    return int(raw)


class _Axes:
    """How trials map onto the parallel-coordinates axes, and back for range filters.

    Keys: ``p:<parameter>``, ``objective``, ``c:<context metric>``. Values are encoded for
    plotting: log-scale parameters as log10, choices and ordinals as the index of the value.
    """

    def __init__(self, view: StudyView) -> None:
        self.definitions: list[dict[str, Any]] = []
        self._encoders: dict[str, Callable[[TrialSummary], float | None]] = {}
        for parameter in view.parameters:
            self._add_parameter(parameter)
        label = "objective (lower is better)" if view.lower_is_better else "objective"
        self._add("objective", label, "linear", lambda t: t.objective)
        for key in view.context_keys:
            self._add(f"c:{key}", key, "linear", _context_getter(key))

    def _add(
        self,
        key: str,
        label: str,
        scale: str,
        encode: Callable[[TrialSummary], float | None],
        categories: list[Any] | None = None,
    ) -> None:
        definition: dict[str, Any] = {"key": key, "label": label, "scale": scale}
        if categories is not None:
            definition["categories"] = categories
        self.definitions.append(definition)
        self._encoders[key] = encode

    def _add_parameter(self, parameter: Any) -> None:
        name = parameter.name
        if isinstance(parameter, (Choice, Ordinal)):
            values = list(parameter.range)

            def encode_category(t: TrialSummary) -> float | None:
                try:
                    return float(values.index(t.parameters.get(name)))
                except ValueError:
                    return None

            self._add(f"p:{name}", name, "category", encode_category, _json_safe(values))
        elif getattr(parameter, "scale", "linear") == "log":
            self._add(f"p:{name}", name, "log", _log_getter(name))
        else:
            self._add(f"p:{name}", name, "linear", _parameter_getter(name))

    @property
    def keys(self) -> list[str]:
        return list(self._encoders)

    def encode(self, key: str, trial: TrialSummary) -> float | None:
        return self._encoders[key](trial)


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer beyond every float, as JSON may carry
        return None
    return number if math.isfinite(number) else None


def _parameter_getter(name: str) -> Callable[[TrialSummary], float | None]:
    return lambda t: _number_or_none(t.parameters.get(name))


def _log_getter(name: str) -> Callable[[TrialSummary], float | None]:
    def encode(t: TrialSummary) -> float | None:
        value = _number_or_none(t.parameters.get(name))
        return math.log10(value) if value is not None and value > 0 else None

    return encode


def _context_getter(key: str) -> Callable[[TrialSummary], float | None]:
    return lambda t: _number_or_none(t.context.get(key))


def _parse_ranges(raw: str | None, axes: _Axes) -> dict[str, list[tuple[float, float]]]:
    if raw is None or raw == "":
        return {}
    try:
        given = json.loads(raw)
    except ValueError:
        raise ApiError(400, f"ranges must be a JSON object; got {raw[:200]!r}") from None
    if not isinstance(given, dict):
        raise ApiError(
            400, f"ranges must be a JSON object of axis: [low, high]; got {raw[:200]!r}"
        )
    ranges: dict[str, list[tuple[float, float]]] = {}
    for key, spans in given.items():
        if key not in axes.keys:
            raise ApiError(400, f"ranges: unknown axis {key!r}; axes are {axes.keys!r}")
        if _is_span(spans):
            spans = [spans]
        if not isinstance(spans, list) or not spans or not all(_is_span(s) for s in spans):
            raise ApiError(
                400,
                f"ranges[{key!r}] must be [low, high] or a list of them; got {spans!r:.200}",
            )
        checked = [(float(min(span)), float(max(span))) for span in spans]
        ranges[key] = checked
    return ranges


def _is_span(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_number_or_none(v) is not None for v in value)
    )


def _parse_statuses(raw: str | None) -> set[TrialStatus] | None:
    if raw is None or raw == "":
        return None
    statuses = set()
    for part in raw.split(","):
        try:
            statuses.add(TrialStatus(part.strip().upper()))
        except ValueError:
            names = ", ".join(s.value for s in TrialStatus)
            raise ApiError(400, f"status must be a list of {names}; got {part!r}") from None
    return statuses


def _frozen(statuses: set[TrialStatus] | None) -> tuple[str, ...] | None:
    return None if statuses is None else tuple(sorted(s.value for s in statuses))


def _row(trial: TrialSummary) -> dict[str, Any]:
    return {
        "number": trial.number,
        "status": trial.status.value,
        "stop_requested": trial.stop_requested,
        "iterations": trial.iterations,
        "objective": trial.objective,
        "best_iteration": trial.best_iteration,
        "parameters": trial.parameters,
        "context": trial.context,
        "created_at": trial.created_at,
        "finished_at": trial.finished_at,
    }


def _sort_key(key: str, axes: _Axes) -> Callable[[TrialSummary], Any]:
    fixed: dict[str, Callable[[TrialSummary], Any]] = {
        "number": lambda t: t.number,
        "status": lambda t: t.status.value,
        "iterations": lambda t: t.iterations,
    }
    if key in fixed:
        return fixed[key]
    if key.startswith("p:"):
        name = key[2:]
        return lambda t: _orderable(t.parameters.get(name))
    if key in axes.keys:
        return lambda t: _orderable(axes.encode(key, t))
    raise ApiError(
        400, f"sort must be number, status, iterations or an axis {axes.keys!r}; got {key!r}"
    )


def _orderable(value: Any) -> Any:
    number = _number_or_none(value)
    if number is not None:
        return (0, number, "")
    return (1, 0.0, str(value)) if value is not None else None


class DashboardApp:
    """The routes of the dashboard over one study.

    Args:
        view_factory: Builds the :class:`~sherpa.dashboard._view.StudyView` on first use, so
            starting the dashboard opens no database connection.
        token: The per-run secret every API request must carry.
        host: The address the server listens on.
        port: The port it listens on.
    """

    def __init__(
        self, view_factory: Callable[[], StudyView], token: str, host: str, port: int
    ) -> None:
        self._view_factory = view_factory
        self._view: StudyView | None = None
        self._view_lock = threading.Lock()
        self._token = token.encode()
        self.host = host.strip("[]").lower()
        self.port = port
        self._summary_cache: tuple[int, int, dict[str, Any]] | None = None
        self._order_cache: dict[tuple[Any, ...], list[TrialSummary]] = {}
        self._names = {"localhost", self.host}
        if self.host in _WILDCARD_HOSTS:
            self._names |= {socket.gethostname().lower(), socket.getfqdn().lower()}

    # Entry

    def handle(self, method: str, target: str, headers: Headers) -> Response:
        """Answer one request; never raises."""
        try:
            return self.secured(self._route(method, target, headers))
        except ApiError as exc:
            response = json_response({"error": exc.message}, exc.status)
            response.headers.update(exc.headers)
            return self.secured(response)
        except SherpaError as exc:
            return self.secured(json_response({"error": str(exc)}, 503))
        except Exception:
            _logger.exception("dashboard: error answering %s %s", method, target[:200])
            return self.secured(json_response({"error": "internal error"}, 500))

    def close(self) -> None:
        """Release the study view's database connections."""
        with self._view_lock:
            if self._view is not None:
                self._view.close()
                self._view = None

    def view(self) -> StudyView:
        """The study view, built on first use."""
        with self._view_lock:
            if self._view is None:
                self._view = self._view_factory()
            return self._view

    @staticmethod
    def secured(response: Response) -> Response:
        """``response`` with the security headers added."""
        response.headers.update(SECURITY_HEADERS)
        return response

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a ``Host`` (or ``Origin`` authority) names this server."""
        if not host_header:
            return False
        parsed = urllib.parse.urlsplit(f"//{host_header}")
        try:
            port = parsed.port
        except ValueError:
            return False
        name = (parsed.hostname or "").lower()
        if port != self.port or not name:
            return False
        if name in self._names:
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def _route(self, method: str, target: str, headers: Headers) -> Response:
        if not self.host_allowed(headers.get("Host")):
            raise ApiError(403, f"host {headers.get('Host')!r} is not served here")
        # The target is a path and a query, never an authority ("//host/..." is a path).
        path, _, query_string = target.split("#", 1)[0].partition("?")
        query = urllib.parse.parse_qs(query_string, keep_blank_values=True)
        if path.startswith("/api/"):
            return self._api(method, path, query, headers)
        if method not in ("GET", "HEAD"):
            raise ApiError(405, f"{method} is not allowed on {path}", {"Allow": "GET, HEAD"})
        if path in ("/", "/index.html"):
            return self._static("index.html", "text/html; charset=utf-8")
        if path.startswith("/static/") and path[len("/static/") :] in _STATIC:
            name = path[len("/static/") :]
            return self._static(name, _STATIC[name], headers.get("If-None-Match"))
        raise ApiError(404, f"no such page: {path[:200]}")

    def _static(self, name: str, content_type: str, etag_seen: str | None = None) -> Response:
        body, etag = _cached_static(name)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag_seen == etag:
            return Response(304, b"", content_type, headers)
        return Response(200, body, content_type, headers)

    # API

    def _api(
        self, method: str, path: str, query: Mapping[str, list[str]], headers: Headers
    ) -> Response:
        given = headers.get(TOKEN_HEADER)
        if not given or not hmac.compare_digest(given.encode(), self._token):
            raise ApiError(403, f"missing or wrong {TOKEN_HEADER} header")
        segments = path[len("/api/") :].split("/")
        if len(segments) == 3 and segments[0] == "trials" and segments[2] == "stop":
            if method != "POST":
                raise ApiError(405, f"{path} takes POST only", {"Allow": "POST"})
            origin = headers.get("Origin")
            if origin is not None and not self._origin_allowed(origin):
                raise ApiError(403, f"origin {origin!r} is not this dashboard")
            return self._stop(_trial_number(segments[1]))
        routes = {
            "summary": self._summary,
            "trials": self._trials,
            "observations": self._observations,
            "curves": self._curves,
        }
        handler = routes.get("/".join(segments))
        if handler is None:
            raise ApiError(404, f"no such API endpoint: {path[:200]}")
        if method not in ("GET", "HEAD"):
            raise ApiError(405, f"{path} takes GET only", {"Allow": "GET, HEAD"})
        view = self.view()
        with view.lock:
            view.refresh()
            payload = handler(view, query)
        return json_response(payload)

    def _origin_allowed(self, origin: str) -> bool:
        parts = urllib.parse.urlsplit(origin)
        return parts.scheme == "http" and self.host_allowed(parts.netloc)

    def _summary(self, view: StudyView, query: Mapping[str, list[str]]) -> dict[str, Any]:
        cached = self._summary_cache
        if cached is not None and cached[:2] == (id(view), view.version):
            return cached[2]
        trials = view.trials()
        counts = {s.value: 0 for s in TrialStatus}
        history: list[list[Any]] = []
        best: TrialSummary | None = None
        for trial in trials:
            counts[trial.status.value] += 1
            if trial.status is not TrialStatus.COMPLETED or trial.objective is None:
                continue
            if best is None or view.is_better(trial.objective, best.objective):
                best = trial
                history.append([trial.number, trial.objective])
        payload = {
            "study": {
                "id": view.record.id,
                "name": view.record.name,
                "lower_is_better": view.lower_is_better,
            },
            "total": len(trials),
            "counts": counts,
            "best": None if best is None else {**_row(best), "trial": best.number},
            "best_history": history,
            "last_trial": trials[-1].number if trials else 0,
            "version": view.version,
            "seq": view.seq,
            "axes": _Axes(view).definitions,
            "context_keys": view.context_keys,
        }
        self._summary_cache = (id(view), view.version, payload)
        return payload

    def _trials(self, view: StudyView, query: Mapping[str, list[str]]) -> dict[str, Any]:
        axes = _Axes(view)
        columns = (_one(query, "format") or "rows") == "columns"
        if _one(query, "format") not in (None, "rows", "columns"):
            raise ApiError(400, f"format must be rows or columns; got {_one(query, 'format')!r}")
        statuses = _parse_statuses(_one(query, "status"))
        ranges = _parse_ranges(_one(query, "ranges"), axes)
        changed_since = _int_arg(query, "changed_since", 0, 0, 2**62)
        version = view.version
        trials = view.trials()

        def matching() -> list[TrialSummary]:
            return [
                t
                for t in trials
                if t.version > changed_since
                and (statuses is None or t.status in statuses)
                and _in_ranges(t, ranges, axes)
            ]

        payload: dict[str, Any] = {"version": version, "total": len(trials)}
        if columns:
            matched = matching()
            payload["matched"] = len(matched)
            limit = _int_arg(query, "limit", MAX_COLUMNS, 1, MAX_COLUMNS)
            chosen = matched[:limit]
            payload["columns"] = {
                "number": [t.number for t in chosen],
                "status": [t.status.value for t in chosen],
                "iterations": [t.iterations for t in chosen],
                "values": {key: [axes.encode(key, t) for t in chosen] for key in axes.keys},
            }
            return payload
        order = _one(query, "order") or "asc"
        if order not in ("asc", "desc"):
            raise ApiError(400, f"order must be asc or desc; got {order!r}")
        sort = _one(query, "sort") or "number"
        key = _sort_key(sort, axes)
        # The page polls the same query every second: sort once per version of the study.
        cache_key = (
            id(view), version, changed_since, _frozen(statuses), repr(sorted(ranges.items())),
            sort, order,
        )  # fmt: skip
        ordered = self._order_cache.get(cache_key)
        if ordered is None:
            matched = matching()
            present = [t for t in matched if key(t) is not None]
            present.sort(key=key, reverse=order == "desc")
            ordered = present + [t for t in matched if key(t) is None]
            if len(self._order_cache) >= ORDER_CACHE_SIZE:
                self._order_cache.pop(next(iter(self._order_cache)))
            self._order_cache[cache_key] = ordered
        offset = _int_arg(query, "offset", 0, 0, 2**62)
        limit = _int_arg(query, "limit", 50, 1, MAX_PAGE)
        payload.update(matched=len(ordered), offset=offset, limit=limit)
        payload["trials"] = [_row(t) for t in ordered[offset : offset + limit]]
        return payload

    def _observations(self, view: StudyView, query: Mapping[str, list[str]]) -> dict[str, Any]:
        since = _int_arg(query, "since", None, 0, 2**62)
        limit = _int_arg(query, "limit", 5000, 1, 10_000)
        rows, next_seq, reset = view.observations_since(since, limit)
        return {
            "observations": rows,
            "next": next_seq,
            "reset": reset,
            "version": view.version,
        }

    def _curves(self, view: StudyView, query: Mapping[str, list[str]]) -> dict[str, Any]:
        raw = _one(query, "trials")
        if not raw:
            raise ApiError(400, "trials is required: a comma-separated list of trial ids")
        numbers = [_trial_number(part.strip()) for part in raw.split(",")]
        if len(numbers) > MAX_CURVES:
            raise ApiError(400, f"at most {MAX_CURVES} trials per request; got {len(numbers)}")
        max_points = _int_arg(query, "max_points", 300, 4, 10_000)
        missing = []
        for number in numbers:
            try:
                view.trial(number)
            except UnknownTrialError:
                missing.append(number)
        if missing:
            raise ApiError(404, f"no trial {missing!r} in study {view.record.name}")
        curves = view.curves(numbers, max_points)
        return {
            "curves": {
                str(n): {"iteration": its, "objective": objs} for n, (its, objs) in curves.items()
            }
        }

    def _stop(self, number: int) -> Response:
        view = self.view()
        view.refresh(force=True)
        try:
            trial = view.request_stop(number)
        except UnknownTrialError as exc:
            raise ApiError(404, str(exc)) from None
        except TrialFinishedError as exc:
            raise ApiError(409, str(exc)) from None
        _logger.info("dashboard: stop requested for trial %d", number)
        return json_response({"trial": trial.number, "stop_requested": True})


def _in_ranges(
    trial: TrialSummary, ranges: Mapping[str, list[tuple[float, float]]], axes: _Axes
) -> bool:
    for key, spans in ranges.items():
        value = axes.encode(key, trial)
        if value is None or not any(low <= value <= high for low, high in spans):
            return False
    return True


_static_cache: dict[str, tuple[bytes, str]] = {}
_static_lock = threading.Lock()


def _cached_static(name: str) -> tuple[bytes, str]:
    """A static file's bytes and ETag, read once per process."""
    with _static_lock:
        if name not in _static_cache:
            body = _static_bytes(name)
            etag = f'"{hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16]}"'
            _static_cache[name] = (body, etag)
        return _static_cache[name]
