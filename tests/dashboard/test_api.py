"""The JSON API over a real store and a real server: every endpoint and every security rule."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import sherpa
from sherpa.dashboard import DashboardServer
from sherpa.dashboard._app import SECURITY_HEADERS, TOKEN_HEADER, DashboardApp

BEST_1 = 0.1 + 1 / 3
BEST_2 = 0.5 + 1 / 3
BEST_3 = 0.9 + 1 / 3


def _numbers(payload: dict[str, Any]) -> list[int]:
    return [row["number"] for row in payload["trials"]]


# Summary


def test_summary_counts_best_and_axes(get_json: Callable[..., Any]) -> None:
    summary = get_json("/api/summary")
    assert summary["study"]["name"] == "dash"
    assert summary["study"]["lower_is_better"] is True
    assert summary["total"] == 4
    assert summary["counts"] == {"INTERMEDIATE": 1, "COMPLETED": 3, "FAILED": 0, "STOPPED": 0}
    assert summary["best"]["trial"] == 1
    assert summary["best"]["objective"] == pytest.approx(BEST_1)
    assert summary["best"]["best_iteration"] == 2
    assert summary["best"]["parameters"] == {"x": 0.1, "lr": 1e-3, "act": "relu"}
    assert summary["best_history"] == [[1, pytest.approx(BEST_1)]]
    assert summary["seq"] == 11
    assert summary["context_keys"] == ["acc"]
    assert summary["axes"] == [
        {"key": "p:x", "label": "x", "scale": "linear"},
        {"key": "p:lr", "label": "lr", "scale": "log"},
        {"key": "p:act", "label": "act", "scale": "category", "categories": ["relu", "tanh"]},
        {"key": "objective", "label": "objective (lower is better)", "scale": "linear"},
        {"key": "c:acc", "label": "acc", "scale": "linear"},
    ]


# Trials


def test_trials_rows_carry_the_best_observation(get_json: Callable[..., Any]) -> None:
    page = get_json("/api/trials")
    assert (page["total"], page["matched"], page["offset"], page["limit"]) == (4, 4, 0, 50)
    assert _numbers(page) == [1, 2, 3, 4]
    first, last = page["trials"][0], page["trials"][3]
    assert first["status"] == "COMPLETED"
    assert first["iterations"] == 3
    assert first["objective"] == pytest.approx(BEST_1)
    assert first["context"] == {"acc": pytest.approx(1 - BEST_1 / 2)}
    assert last["status"] == "INTERMEDIATE"
    assert last["iterations"] == 2
    assert (last["objective"], last["best_iteration"]) == (1.3, 0)  # the NaN is never best
    assert last["finished_at"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "objective", "order": "desc"}, [4, 3, 2, 1]),
        ({"sort": "objective"}, [1, 2, 3, 4]),
        ({"sort": "p:lr"}, [3, 1, 2, 4]),
        ({"sort": "p:act", "order": "desc"}, [2, 4, 1, 3]),
        ({"sort": "c:acc"}, [4, 3, 2, 1]),
        ({"sort": "status"}, [1, 2, 3, 4]),
        ({"sort": "number", "order": "desc", "limit": 2}, [4, 3]),
        ({"limit": 2, "offset": 2}, [3, 4]),
        ({"offset": 10}, []),
        ({"status": "INTERMEDIATE"}, [4]),
        ({"status": "completed,INTERMEDIATE"}, [1, 2, 3, 4]),
        ({"status": "FAILED"}, []),
        ({"ranges": json.dumps({"p:act": [0.5, 1.5]})}, [2, 4]),
        ({"ranges": json.dumps({"p:lr": [-3.5, -1.5]})}, [1, 2]),
        ({"ranges": json.dumps({"p:lr": [[-4.5, -3.5], [-1.5, -0.5]]})}, [3, 4]),
        ({"ranges": json.dumps({"p:act": [0.5, 1.5], "p:lr": [-3.5, -1.5]})}, [2]),
        ({"ranges": json.dumps({"objective": [1.0, 2.0]})}, [3, 4]),
        ({"ranges": json.dumps({"c:acc": [0.5, 1.0]})}, [1, 2]),
        ({"ranges": json.dumps({"p:x": [0.2, 0.6]}), "status": "COMPLETED"}, [2]),
    ],
)
def test_trials_sort_filter_and_page(
    get_json: Callable[..., Any], params: dict[str, Any], expected: list[int]
) -> None:
    assert _numbers(get_json("/api/trials", **params)) == expected


def test_trials_matched_counts_the_filtered_trials_not_the_page(
    get_json: Callable[..., Any],
) -> None:
    page = get_json("/api/trials", ranges=json.dumps({"p:act": [0.5, 1.5]}), limit=1)
    assert (page["total"], page["matched"], _numbers(page)) == (4, 2, [2])


def test_trials_columns_are_encoded_for_the_axes(get_json: Callable[..., Any]) -> None:
    payload = get_json("/api/trials", format="columns")
    columns = payload["columns"]
    assert columns["number"] == [1, 2, 3, 4]
    assert columns["status"] == ["COMPLETED", "COMPLETED", "COMPLETED", "INTERMEDIATE"]
    assert columns["iterations"] == [3, 3, 3, 2]
    values = columns["values"]
    assert list(values) == ["p:x", "p:lr", "p:act", "objective", "c:acc"]
    assert values["p:x"] == [0.1, 0.5, 0.9, 0.3]
    assert values["p:lr"] == pytest.approx([-3.0, -2.0, -4.0, -1.0])
    assert values["p:act"] == [0.0, 1.0, 0.0, 1.0]
    assert values["objective"] == pytest.approx([BEST_1, BEST_2, BEST_3, 1.3])


def test_trials_changed_since_returns_only_what_changed(
    study: sherpa.Study, get_json: Callable[..., Any]
) -> None:
    version = get_json("/api/trials", format="columns")["version"]
    assert get_json("/api/trials", format="columns", changed_since=version)["matched"] == 0
    study.add_observation(study.get_trial(4), 0.2, iteration=2, context={"acc": 0.9})
    deadline = time.monotonic() + 5
    while True:
        changed = get_json("/api/trials", format="columns", changed_since=version)
        if changed["matched"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert changed["columns"]["number"] == [4]
    assert changed["columns"]["values"]["objective"] == [0.2]
    assert changed["version"] > version


# Observations (incremental)


def test_observations_since_returns_only_new_rows_within_a_second(
    study: sherpa.Study, get_json: Callable[..., Any]
) -> None:
    seq = get_json("/api/summary")["seq"]
    assert get_json("/api/observations", since=seq) == {
        "observations": [],
        "next": seq,
        "reset": False,
        "version": get_json("/api/summary")["version"],
    }
    trial = study.get_trial(4)
    written = time.monotonic()
    study.add_observation(trial, 1.25, iteration=2, context={"acc": 0.4})
    study.add_observation(trial, 1.2, iteration=3, context={"acc": 0.41})
    while True:
        reply = get_json("/api/observations", since=seq)
        if reply["observations"] or time.monotonic() - written > 5:
            break
        time.sleep(0.05)
    assert time.monotonic() - written < 1.0
    assert reply["observations"] == [[4, 2, 1.25], [4, 3, 1.2]]
    assert (reply["next"], reply["reset"]) == (seq + 2, False)
    assert get_json("/api/observations", since=seq + 1)["observations"] == [[4, 3, 1.2]]
    assert get_json("/api/observations", since=seq + 2)["observations"] == []


def test_observations_from_before_the_view_or_ahead_of_it_ask_for_a_reload(
    get_json: Callable[..., Any],
) -> None:
    seq = get_json("/api/summary")["seq"]
    assert get_json("/api/observations", since=0)["reset"] is True
    assert get_json("/api/observations", since=seq + 5) == {
        "observations": [],
        "next": seq,
        "reset": True,
        "version": get_json("/api/summary")["version"],
    }


# Curves


def test_curves_of_chosen_trials(get_json: Callable[..., Any]) -> None:
    curves = get_json("/api/curves", trials="1,4")["curves"]
    assert list(curves) == ["1", "4"]
    assert curves["1"]["iteration"] == [0, 1, 2]
    assert curves["1"]["objective"] == pytest.approx([1.1, 0.6, BEST_1])
    assert curves["4"] == {"iteration": [0, 1], "objective": [1.3, None]}


def test_curves_are_reduced_to_max_points(
    study: sherpa.Study, get_json: Callable[..., Any]
) -> None:
    trial = study.get_trial(4)
    for iteration in range(2, 402):
        study.add_observation(trial, 5.0 if iteration == 200 else 1.0 / iteration, iteration)
    curve = get_json("/api/curves", trials="4", max_points=20)["curves"]["4"]
    assert len(curve["iteration"]) <= 20
    assert curve["iteration"][0] == 0 and curve["iteration"][-1] == 401
    assert curve["iteration"] == sorted(curve["iteration"])
    assert 200 in curve["iteration"]  # the spike survives
    assert max(v for v in curve["objective"] if v is not None) == 5.0


# Stop


def test_stop_writes_the_stop_request(study: sherpa.Study, client: httpx.Client) -> None:
    response = client.post("/api/trials/4/stop")
    assert response.status_code == 200
    assert response.json() == {"trial": 4, "stop_requested": True}
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == {4}
    page = client.get("/api/trials", params={"status": "INTERMEDIATE"}).json()
    assert page["trials"][0]["stop_requested"] is True


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/trials/1/stop", 409, "trial 1 is already COMPLETED"),
        ("/api/trials/99/stop", 404, "trial 99 does not exist in study dash"),
        ("/api/trials/abc/stop", 400, "trial id must be a positive integer; got 'abc'"),
        ("/api/trials/-1/stop", 400, "trial id must be a positive integer; got '-1'"),
        ("/api/trials/1e3/stop", 400, "trial id must be a positive integer; got '1e3'"),
    ],
)
def test_stop_refuses_bad_ids(
    client: httpx.Client, study: sherpa.Study, path: str, status: int, message: str
) -> None:
    response = client.post(path)
    assert response.status_code == status
    assert response.json() == {"error": message}
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == set()


def test_stop_refuses_a_digit_that_is_not_a_number(
    server: DashboardServer, study: sherpa.Study
) -> None:
    # The request line is read as Latin-1: byte 0xB2 arrives as '\u00b2', which isdigit().
    request = (
        b"POST /api/trials/\xb2/stop HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{server.port}\r\n{TOKEN_HEADER}: {server.token}\r\n".encode()
        + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400")
    assert json.loads(body) == {"error": "trial id must be a positive integer; got '\u00b2'"}
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == set()


def test_stop_is_post_only(client: httpx.Client, study: sherpa.Study) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, "/api/trials/4/stop")
        assert response.status_code == 405, method
        assert response.headers["Allow"] == "POST"
        assert response.json() == {"error": "/api/trials/4/stop takes POST only"}
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == set()


def test_stop_refuses_another_origin(client: httpx.Client, server: DashboardServer) -> None:
    response = client.post("/api/trials/4/stop", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert response.json() == {"error": "origin 'http://evil.example' is not this dashboard"}
    same = client.post("/api/trials/4/stop", headers={"Origin": server.base_url})
    assert same.status_code == 200


def test_reads_are_get_only(client: httpx.Client) -> None:
    response = client.post("/api/summary")
    assert response.status_code == 405
    assert response.json() == {"error": "/api/summary takes GET only"}


# Token


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Sherpa-Token": ""}, {"X-Sherpa-Token": "wrong"}],
    ids=["missing", "empty", "wrong"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/summary"), ("GET", "/api/trials"), ("POST", "/api/trials/4/stop")],
)
def test_api_needs_the_token(
    server: DashboardServer,
    study: sherpa.Study,
    headers: dict[str, str],
    method: str,
    path: str,
) -> None:
    response = httpx.request(method, server.base_url + path, headers=headers)
    assert response.status_code == 403
    assert response.json() == {"error": "missing or wrong X-Sherpa-Token header"}
    assert study.storage is not None and study.study_id is not None
    assert study.storage.stop_requested(study.study_id) == set()


def test_token_in_the_query_string_is_not_enough(server: DashboardServer) -> None:
    response = httpx.post(f"{server.base_url}/api/trials/4/stop?token={server.token}")
    assert response.status_code == 403


# Host header (DNS rebinding)


@pytest.mark.parametrize(
    "host",
    ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}", ""],
)
def test_foreign_host_header_is_refused(server: DashboardServer, host: str) -> None:
    header = host.format(port=server.port)
    response = httpx.get(
        server.base_url + "/api/summary",
        headers={"Host": header, "X-Sherpa-Token": server.token},
    )
    assert response.status_code == 403
    assert response.json() == {"error": f"host {header!r} is not served here"}
    page = httpx.get(server.base_url + "/", headers={"Host": header})
    assert page.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_local_host_headers_are_served(server: DashboardServer, host: str) -> None:
    response = httpx.get(
        server.base_url + "/api/summary",
        headers={"Host": host.format(port=server.port), "X-Sherpa-Token": server.token},
    )
    assert response.status_code == 200


def test_request_without_host_is_refused() -> None:
    app = DashboardApp(lambda: pytest.fail("the view must not be built"), "t", "127.0.0.1", 1)
    response = app.handle("GET", "/api/summary", {"X-Sherpa-Token": "t"})
    assert response.status == 403
    assert json.loads(response.body) == {"error": "host None is not served here"}


# Bad arguments


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/trials", {"limit": "0"}, "limit must be between 1 and 1000; got 0"),
        ("/api/trials", {"limit": "abc"}, "limit must be an integer; got 'abc'"),
        (
            "/api/trials",
            {"offset": "-1"},
            "offset must be between 0 and 4611686018427387904; got -1",
        ),
        ("/api/trials", {"order": "up"}, "order must be asc or desc; got 'up'"),
        ("/api/trials", {"format": "xml"}, "format must be rows or columns; got 'xml'"),
        (
            "/api/trials",
            {"status": "DONE"},
            "status must be a list of INTERMEDIATE, COMPLETED, FAILED, STOPPED; got 'DONE'",
        ),
        ("/api/trials", {"ranges": "{"}, "ranges must be a JSON object; got '{'"),
        (
            "/api/trials",
            {"ranges": '{"p:y": [0, 1]}'},
            "ranges: unknown axis 'p:y'; axes are ['p:x', 'p:lr', 'p:act', 'objective', 'c:acc']",
        ),
        (
            "/api/trials",
            {"ranges": '{"p:x": [0]}'},
            "ranges['p:x'] must be [low, high] or a list of them; got [0]",
        ),
        (
            "/api/trials",
            {"ranges": '{"p:x": ["a", "b"]}'},
            "ranges['p:x'] must be [low, high] or a list of them; got ['a', 'b']",
        ),
        (
            "/api/trials",
            {"ranges": f'{{"objective": [0, {10**400}]}}'},
            "ranges['objective'] must be [low, high] or a list of them; got "
            + repr([0, 10**400])[:200],
        ),
        (
            "/api/trials",
            {"sort": "bogus"},
            "sort must be number, status, iterations or an axis "
            "['p:x', 'p:lr', 'p:act', 'objective', 'c:acc']; got 'bogus'",
        ),
        ("/api/observations", {}, "since is required"),
        ("/api/observations", {"since": "x"}, "since must be an integer; got 'x'"),
        ("/api/curves", {}, "trials is required: a comma-separated list of trial ids"),
        ("/api/curves", {"trials": "1,x"}, "trial id must be a positive integer; got 'x'"),
        ("/api/curves", {"trials": "\u00b2"}, "trial id must be a positive integer; got '\u00b2'"),
        ("/api/curves", {"trials": "1,99,98"}, "no trial [99, 98] in study dash"),
        (
            "/api/curves",
            {"trials": ",".join(["1"] * 201)},
            "at most 200 trials per request; got 201",
        ),
        (
            "/api/curves",
            {"trials": "1", "max_points": "2"},
            "max_points must be between 4 and 10000; got 2",
        ),
        ("/api/nope", {}, "no such API endpoint: /api/nope"),
    ],
)
def test_bad_arguments_give_a_json_4xx(
    client: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    response = client.get(path, params=params)
    assert 400 <= response.status_code < 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": message}


def test_repeated_argument_is_refused(client: httpx.Client) -> None:
    response = client.get("/api/trials?limit=1&limit=2")
    assert response.status_code == 400
    assert response.json() == {"error": "limit may be given once; got ['1', '2']"}


def test_unexpected_error_is_a_500_without_traceback() -> None:
    def broken() -> Any:
        raise RuntimeError("secret internals")

    app = DashboardApp(broken, "t", "127.0.0.1", 8880)
    response = app.handle("GET", "/api/summary", {"Host": "127.0.0.1:8880", "X-Sherpa-Token": "t"})
    assert response.status == 500
    assert json.loads(response.body) == {"error": "internal error"}
    assert b"secret" not in response.body and b"Traceback" not in response.body


def test_malformed_request_gets_json_not_html(server: DashboardServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(b"GET / HTTP/2.0\r\n\r\n")
        chunks = []
        while chunk := conn.recv(65536):  # the server closes the connection after it
            chunks.append(chunk)
        reply = b"".join(chunks).decode()
    head, _, body = reply.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 505")
    assert "Content-Type: application/json" in head
    assert "frame-ancestors 'none'" in head
    assert json.loads(body) == {"error": "Invalid HTTP version (2.0)"}


def test_oversized_body_is_refused(client: httpx.Client) -> None:
    response = client.post("/api/trials/4/stop", content=b"x" * 10_000)
    assert response.status_code == 413


# The page and static files


def test_page_and_scripts_are_local(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script src="/static/app.js" defer></script>' in page.text
    assert "script.src = '/static/plotly.min.js';" in client.get("/static/app.js").text
    for name in ("app.js", "app.css"):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200
        assert "://" not in asset.text.replace("http://www.w3.org", "")
    assert "://" not in page.text
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert len(plotly.content) > 1_000_000
    assert b"plotly.js" in plotly.content[:500]


def test_static_files_are_revalidated_by_etag(client: httpx.Client) -> None:
    first = client.get("/static/app.js")
    again = client.get("/static/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(
    "path",
    [
        "/static/../_app.py",
        "/static/%2e%2e/_app.py",
        "/static/..%2f_app.py",
        "/static/app.js/../../_app.py",
        "/static/../../../../../../etc/passwd",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/",
        "/static/index.html/..",
        "//etc/passwd",
        "/_app.py",
    ],
)
def test_path_traversal_finds_nothing(server: DashboardServer, path: str) -> None:
    # http.client sends the path as written (httpx would remove the dot segments).
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers={"X-Sherpa-Token": server.token})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 404
    shown = "/" + path.lstrip("/")  # the standard library's handler folds leading slashes
    assert json.loads(body) == {"error": f"no such page: {shown}"}


def test_every_response_has_the_security_headers(
    client: httpx.Client, server: DashboardServer
) -> None:
    responses = [
        client.get("/"),
        client.get("/static/app.js"),
        client.get("/api/summary"),
        client.get("/api/nope"),
        httpx.get(server.base_url + "/api/summary"),
        client.get("/api/summary", headers={"Host": "evil.example"}),
    ]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (response.url, name)
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy and "*" not in policy
    assert "script-src 'self' 'unsafe-eval';" in policy
    assert client.get("/api/summary").headers["Cache-Control"] == "no-store"
