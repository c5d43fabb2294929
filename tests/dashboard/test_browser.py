"""The page in a real headless Chromium (Debian's, driven by Playwright): live study, brushing,
stopping a trial of a real ``sherpa.optimize`` run."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import sherpa
from sherpa.algorithms import Iterate
from sherpa.dashboard import DashboardServer, start_dashboard

playwright_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")

CHROMIUM = os.environ.get("SHERPA_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
READY_TIMEOUT_MS = 90_000
"""Software-rendered WebGL (no GPU here) makes the parallel coordinates slow to draw."""

X_VALUES = [round(0.05 + 0.075 * i, 3) for i in range(12)]

FIXED_HEADS = ["Trial", "Status", "Iterations", "Objective", "x", "act"]
"""The table's first columns over :func:`live_study` (the last one holds the stop buttons)."""


def _launcher(directory: Path) -> str:
    # Run as root, Chromium renices its browser and GPU processes to -8, ahead of everything
    # else on the machine; without CAP_SYS_NICE it stays at the tests' priority.
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        return CHROMIUM
    launcher = directory / "chromium"
    launcher.write_text(
        f"#!/bin/sh\nexec {setpriv} --bounding-set=-sys_nice --inh-caps=-sys_nice "
        f'{CHROMIUM} "$@"\n'
    )
    launcher.chmod(0o755)
    return str(launcher)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    launcher = _launcher(tmp_path_factory.mktemp("chromium"))
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=launcher, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == []


@pytest.fixture
def live_study(tmp_path: Path) -> Iterator[tuple[sherpa.Study, DashboardServer]]:
    study = sherpa.Study(
        [sherpa.Continuous("x", [0, 1]), sherpa.Choice("act", ["relu", "tanh"])],
        Iterate([{"x": x, "act": "relu" if i % 2 else "tanh"} for i, x in enumerate(X_VALUES)]),
        lower_is_better=True,
        disable_dashboard=True,
        storage=sherpa.storage.sqlite_url(tmp_path / "sherpa.db"),
        study_name="browser",
    )
    for _ in range(11):
        trial = study.get_suggestion()
        assert isinstance(trial, sherpa.Trial)
        for iteration in range(3):
            study.add_observation(trial, trial.parameters["x"] + 1 / (iteration + 1), iteration)
        study.finalize(trial)
    assert study.storage is not None
    server = start_dashboard(study.storage, port=0)
    yield study, server
    server.stop()
    study.close()


def _load(page: Any, url: str) -> None:
    """Open the dashboard and wait until its first data are drawn."""
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=READY_TIMEOUT_MS)


def _table_numbers(page: Any) -> list[int]:
    return [
        int(n)
        for n in page.eval_on_selector_all(
            "#trials tbody tr", "rs => rs.map(r => r.dataset.trial)"
        )
    ]


def _brush_upper_part(page: Any, centre: float, axis: dict[str, float]) -> None:
    """Drag along a parallel-coordinates axis from 5 % to 50 % of its height, from the top."""
    page.mouse.move(centre, axis["y"] + axis["height"] * 0.05)
    page.mouse.down()
    page.mouse.move(centre, axis["y"] + axis["height"] * 0.3, steps=5)
    page.mouse.move(centre, axis["y"] + axis["height"] * 0.5, steps=5)
    page.mouse.up()


def test_page_shows_the_live_study_and_brushing_filters_the_table(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    _load(page, server.url)
    assert page.text_content("#study-name") == "browser"
    assert page.text_content("#table-info") == "11 trials"
    assert _table_numbers(page) == list(range(1, 12))
    assert page.text_content(".badge[data-status='COMPLETED']") == "completed 11"
    assert page.text_content("#best") == "best 0.38333 (trial 1)"
    assert page.locator("#curves .scatterlayer .trace").count() == 11
    assert page.locator("#parcoords .y-axis").count() == 3  # x, act, objective

    # Live: a new trial and its observation appear without reloading.
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.1, iteration=0)
    page.wait_for_selector("#trials tbody tr[data-trial='12']", timeout=5000)
    page.wait_for_function(
        "() => document.querySelector(\".badge[data-status='INTERMEDIATE']\").textContent"
        " === 'intermediate 1'",
        timeout=5000,
    )
    assert page.locator("#trials tbody tr[data-trial='12'] button.stop").count() == 1

    # Brush the x axis over its upper part: the table keeps only the trials inside.
    axis = page.locator("#parcoords rect.background").first.bounding_box()
    assert axis is not None
    centre = axis["x"] + axis["width"] / 2
    _brush_upper_part(page, centre, axis)
    page.wait_for_function(
        "() => / of 12 trials match the selection$/.test("
        "document.getElementById('table-info').textContent)",
        timeout=READY_TIMEOUT_MS,
    )
    low, high = page.evaluate(
        "() => { const r = document.getElementById('parcoords').data[0]"
        ".dimensions[0].constraintrange; return Array.isArray(r[0]) ? r[0] : r; }"
    )
    expected = [n for n, x in enumerate(X_VALUES, start=1) if low <= x <= high]
    assert 0 < len(expected) < 12
    assert _table_numbers(page) == expected
    assert page.text_content("#table-info") == f"{len(expected)} of 12 trials match the selection"
    page.wait_for_function(
        f"() => document.querySelectorAll('#curves .scatterlayer .trace').length"
        f" === {len(expected)}",
        timeout=READY_TIMEOUT_MS,
    )

    page.click("#clear-brush")
    page.wait_for_function(
        "() => document.getElementById('table-info').textContent === '12 trials'",
        timeout=READY_TIMEOUT_MS,
    )


def test_page_without_its_token_says_what_to_open(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    _, server = live_study
    page.goto(server.base_url + "/")
    page.wait_for_selector("#message:not([hidden])")
    assert page.text_content("#message") == (
        "Open this page with the address sherpa printed (it ends in ?token=…)."
    )


SLOW_TRIAL = """\
import time
import sherpa

client = sherpa.Client()
trial = client.get_trial()
for iteration in range(trial.parameters["iterations"]):
    client.send_metrics(trial=trial, iteration=iteration, objective=1.0 / (iteration + 1))
    time.sleep(0.1)
"""


def test_stop_button_stops_a_trial_of_a_real_run(page: Any, tmp_path: Path) -> None:
    script = tmp_path / "trial.py"
    script.write_text(SLOW_TRIAL)
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.INFO)
    logging.getLogger("sherpa").addHandler(handler)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["best"] = sherpa.optimize(
                parameters=[sherpa.Discrete("iterations", [1, 1000])],
                algorithm=Iterate([{"iterations": 900}, {"iterations": 100}]),
                lower_is_better=True,
                scheduler=sherpa.schedulers.LocalScheduler(),
                filename=script,
                output_dir=tmp_path / "out",
                verbose=0,
            )
        except BaseException as exc:  # reported by the assertions below
            outcome["error"] = exc

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            found = [re.search(r"(http://\S+\?token=\S+)", m) for m in messages]
            url = next((f.group(1) for f in found if f), None)
            time.sleep(0.05)
        assert url is not None, messages
        page.goto(url)
        page.wait_for_selector("body[data-painted='1']", timeout=READY_TIMEOUT_MS)
        button = page.locator("#trials tbody tr[data-trial='1'] button.stop")
        button.wait_for(timeout=10_000)
        button.click()
        page.wait_for_function(
            "() => { const row = document.querySelector(\"#trials tbody tr[data-trial='1']\");"
            " return row && row.querySelector('td.status').textContent === 'STOPPED'; }",
            timeout=30_000,
        )
        runner.join(timeout=60)
        assert not runner.is_alive()
    finally:
        logging.getLogger("sherpa").removeHandler(handler)
    assert "error" not in outcome, outcome
    assert "dashboard: stop requested for trial 1" in messages
    loaded = sherpa.Study.load(tmp_path / "out")
    assert loaded.status_of(loaded.get_trial(1)) is sherpa.TrialStatus.STOPPED
    assert loaded.status_of(loaded.get_trial(2)) is sherpa.TrialStatus.COMPLETED
    assert loaded.num_observations(loaded.get_trial(1)) < 900


def _draws(page: Any) -> dict[str, int]:
    result: dict[str, int] = page.evaluate("() => ({...window.sherpaDashboard.draws})")
    return result


def _set_visibility(page: Any, state: str) -> None:
    # Headless Chromium never hides a tab: the test sets what the page reads and tells it.
    page.evaluate(
        "state => { Object.defineProperty(document, 'visibilityState',"
        " {value: state, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }",
        state,
    )


def test_page_redraws_only_what_changed_and_rests_while_hidden(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url.split("/api/")[-1]))
    _load(page, server.url)
    drawn = _draws(page)
    assert drawn["parcoords"] == 1 and drawn["best"] == 1 and drawn["table"] == 1

    # Nothing changes: the page polls for observations and draws nothing.
    requests.clear()
    page.wait_for_timeout(3500)
    assert _draws(page) == drawn
    assert len(requests) >= 2
    assert all(path.startswith("observations?since=") for path in requests), requests

    # A new trial: table and counts within a second or two, the parallel coordinates once.
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.1, iteration=0)
    page.wait_for_selector("#trials tbody tr[data-trial='12']", timeout=5000)
    page.wait_for_function(
        f"() => window.sherpaDashboard.draws.parcoords === {drawn['parcoords'] + 1}",
        timeout=READY_TIMEOUT_MS,
    )
    after_new = _draws(page)
    assert after_new["table"] > drawn["table"] and after_new["header"] > drawn["header"]
    assert after_new["best"] == drawn["best"]  # trial 12 is not completed

    # A worse observation of trial 12 (its best stays 0.1): its curve grows from the polled
    # observation, without fetching curves, and the plots of all trials stay as they are.
    requests.clear()
    study.add_observation(trial, 0.5, iteration=1)
    page.wait_for_function(
        "() => document.querySelector(\"#trials tbody tr[data-trial='12'] td:nth-child(3)\")"
        ".textContent === '2'",
        timeout=5000,
    )
    page.wait_for_function(
        f"() => window.sherpaDashboard.draws.curves === {after_new['curves'] + 1}", timeout=5000
    )
    page.wait_for_timeout(1500)
    now = _draws(page)
    assert (now["parcoords"], now["best"]) == (after_new["parcoords"], after_new["best"])
    assert not [path for path in requests if path.startswith("curves")], requests
    curve = page.evaluate(
        "() => { const t = document.getElementById('curves').data"
        ".find(trace => trace.name === 'trial 12'); return [t.x, t.y]; }"
    )
    assert curve == [[0, 1], [0.1, 0.5]]

    # Hidden: no requests at all; shown again: it catches up at once.
    _set_visibility(page, "hidden")
    page.wait_for_function(
        "() => document.getElementById('live').textContent === 'paused (tab hidden)'",
        timeout=5000,
    )
    requests.clear()
    study.finalize(trial)
    page.wait_for_timeout(2500)
    assert requests == []
    _set_visibility(page, "visible")
    page.wait_for_function(
        "() => document.querySelector(\"#trials tbody tr[data-trial='12'] td.status\")"
        ".textContent === 'COMPLETED'",
        timeout=3000,
    )
    assert page.text_content("#live") == "live"


def _badge(page: Any, status: str) -> str:
    text: str = page.text_content(f".badge[data-status='{status}']")
    return text


def _open_trial(page: Any, study: sherpa.Study) -> sherpa.Trial:
    """Trial 12, open with one observation, once the page shows it."""
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.1, iteration=0)
    page.wait_for_selector("#trials tbody tr[data-trial='12']", timeout=5000)
    return trial


def test_page_header_catches_up_with_a_change_made_while_a_poll_reads(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    _load(page, server.url)
    trial = _open_trial(page, study)
    assert _badge(page, "COMPLETED") == "completed 11"

    other_tab = httpx.Client(base_url=server.base_url, headers={"X-Sherpa-Token": server.token})
    interrupted: list[str] = []

    def finish_between_summary_and_columns(route: Any) -> None:
        # After the poll read the summary and before it reads the changed trials, trial 12
        # ends and another reader makes the server read the store again.
        if not interrupted:
            interrupted.append(route.request.url)
            study.finalize(trial)
            time.sleep(0.3)  # past the server's shortest time between two reads
            assert other_tab.get("/api/summary").json()["counts"]["COMPLETED"] == 12
        route.continue_()

    page.route(
        lambda url: "format=columns&changed_since=" in url, finish_between_summary_and_columns
    )
    study.add_observation(trial, 0.05, iteration=1)
    page.wait_for_function(
        "() => document.querySelector(\".badge[data-status='COMPLETED']\").textContent"
        " === 'completed 12'",
        timeout=5000,
    )
    assert len(interrupted) == 1
    assert _badge(page, "INTERMEDIATE") == "intermediate 0"
    other_tab.close()


def test_page_reads_again_after_a_failed_page_request(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    _load(page, server.url)
    trial = _open_trial(page, study)
    failed: list[str] = []

    def fail_once(route: Any) -> None:
        if failed:
            route.continue_()
            return
        failed.append(route.request.url)
        route.fulfill(
            status=503, content_type="application/json", body='{"error":"database is locked"}'
        )

    page.route(lambda url: "/api/trials?offset=" in url, fail_once)
    study.finalize(trial)
    page.wait_for_function(
        "() => document.querySelector(\"#trials tbody tr[data-trial='12'] td.status\")"
        ".textContent === 'COMPLETED'",
        timeout=5000,
    )
    assert len(failed) == 1
    assert _badge(page, "COMPLETED") == "completed 12"
    page.wait_for_function(
        "() => document.getElementById('live').textContent === 'live'", timeout=3000
    )


def _centre(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_brushing_a_dragged_axis_filters_on_that_axis(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    _, server = live_study
    _load(page, server.url)
    labels = "() => document.getElementById('parcoords').data[0].dimensions.map(d => d.label)"
    assert page.evaluate(labels) == ["x", "act", "objective (lower is better)"]

    # Drag the x axis by its title past the act axis.
    title = page.locator("#parcoords .axis-title", has_text=re.compile("^x$"))
    x0, y0 = _centre(title.bounding_box())
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 31):
        page.mouse.move(x0 + 25 * step, y0)
    page.mouse.up()
    page.wait_for_function(f"() => ({labels})()[0] === 'act'", timeout=READY_TIMEOUT_MS)
    assert page.evaluate(labels) == ["act", "x", "objective (lower is better)"]

    # Brush the x axis (now the second) over its upper part.
    x_now, _ = _centre(title.bounding_box())
    boxes = [
        page.locator("#parcoords rect.background").nth(i).bounding_box()
        for i in range(page.locator("#parcoords rect.background").count())
    ]
    axis = min(boxes, key=lambda box: abs(_centre(box)[0] - x_now))
    centre = _centre(axis)[0]
    _brush_upper_part(page, centre, axis)
    page.wait_for_function(
        "() => / of 11 trials match the selection$/.test("
        "document.getElementById('table-info').textContent)",
        timeout=READY_TIMEOUT_MS,
    )
    low, high = page.evaluate(
        "() => { const r = document.getElementById('parcoords').data[0].dimensions"
        ".find(d => d.label === 'x').constraintrange; return Array.isArray(r[0]) ? r[0] : r; }"
    )
    expected = [n for n, x in enumerate(X_VALUES[:11], start=1) if low <= x <= high]
    assert 0 < len(expected) < 11
    assert _table_numbers(page) == expected

    # A redraw (here: clearing the brush) keeps the order the user dragged the axes into.
    page.click("#clear-brush")
    page.wait_for_function(
        "() => document.getElementById('table-info').textContent === '11 trials'",
        timeout=READY_TIMEOUT_MS,
    )
    assert page.evaluate(labels) == ["act", "x", "objective (lower is better)"]


def _table_heads(page: Any) -> list[str]:
    heads: list[str] = page.eval_on_selector_all(
        "#trials thead th", "hs => hs.map(h => h.textContent)"
    )
    return heads


def test_page_shows_context_metrics_that_appear_after_it_opened(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    _load(page, server.url)
    assert _table_heads(page) == [*FIXED_HEADS, ""]

    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.5, iteration=0, context={"acc": 0.5, "loss": 0.3})
    page.wait_for_selector("#trials thead th[data-key='c:loss']", timeout=5000)
    assert _table_heads(page) == [*FIXED_HEADS, "acc", "loss", ""]

    # Once the user picks, new metrics are left to the picker.
    page.locator("#metric-picker label", has_text="loss").locator("input").uncheck()
    page.wait_for_function(
        "() => !document.querySelector(\"#trials thead th[data-key='c:loss']\")", timeout=5000
    )
    study.add_observation(trial, 0.4, iteration=1, context={"acc": 0.6, "mse": 0.1})
    page.wait_for_selector("#metric-picker label:has-text('mse')", timeout=5000)
    page.wait_for_timeout(1500)
    assert _table_heads(page) == [*FIXED_HEADS, "acc", ""]


def test_stop_click_survives_a_poll_that_changes_the_table_while_pressed(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    study, server = live_study
    trial = study.get_suggestion()
    assert isinstance(trial, sherpa.Trial)
    study.add_observation(trial, 0.9, iteration=0)
    _load(page, server.url)
    button = page.locator("#trials tbody tr[data-trial='12'] button.stop")
    button.wait_for(timeout=5000)
    box = button.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    tables = _draws(page)["table"]

    # A new observation changes trial 12's row while the button is held: no rebuild yet.
    study.add_observation(trial, 0.8, iteration=1)
    page.wait_for_timeout(2500)
    assert _draws(page)["table"] == tables
    page.mouse.up()

    assert study.storage is not None
    deadline = time.monotonic() + 5
    while 12 not in study.storage.stop_requested(study.study_id):
        assert time.monotonic() < deadline, "the click was lost"
        time.sleep(0.05)
    page.wait_for_function(
        "() => document.querySelector(\"#trials tbody tr[data-trial='12'] td:nth-child(3)\")"
        ".textContent === '2'",
        timeout=5000,
    )  # the deferred rebuild came after the click


def test_a_table_the_user_asked_for_that_fails_to_load_says_so(
    page: Any, live_study: tuple[sherpa.Study, DashboardServer]
) -> None:
    _, server = live_study
    _load(page, server.url)
    fail = [True]

    def answer(route: Any) -> None:
        if fail[0]:
            route.fulfill(
                status=503, content_type="application/json", body='{"error":"database is locked"}'
            )
        else:
            route.continue_()

    page.route(lambda url: "/api/trials?offset=" in url, answer)
    page.select_option("#page-size", "10")
    page.wait_for_function("() => !document.getElementById('message').hidden", timeout=5000)
    assert page.text_content("#message") == ("The table could not be loaded: database is locked")
    fail[0] = False
    page.select_option("#page-size", "50")
    page.wait_for_function("() => document.getElementById('message').hidden", timeout=5000)
    assert sorted(_table_numbers(page)) == list(range(1, 12))
