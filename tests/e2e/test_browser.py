"""The page in headless Chromium: train, watch the loss curve grow, see the boundary, predict."""

import tempfile
from pathlib import Path
from typing import Any

import pytest

from core.features import DEFAULT_FEATURES, FEATURES
from core.generators import DEFAULT_GENERATOR, DEFAULT_N_SAMPLES
from service.domain.training import TUTORIAL
from tests.e2e.browser import browser_context, chromium_executable
from tests.helpers.server import ServerFactory, wait_for_job

__all__ = ["browser_context", "chromium_executable"]

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Long enough for the page to see the job running between progress events (on the compiled
# engine, 3,000 epochs of batches of 4 took 0.4 s and a page could miss the running state
# altogether; these take about 2 s), and no more than the page plots unthinned.
EPOCHS = 10_000
PAGE_TIMEOUT_MS = 120_000
API_KEY = "page-test-key"

# Plotted loss points while the job runs (the status says running), else null.
RUNNING_CURVE = """() => {
  const plot = document.getElementById("loss-plot");
  const points = plot.data && plot.data[0] ? plot.data[0].x.length : 0;
  const running = document.getElementById("status").dataset.state === "running";
  return running && points > 0 ? points : null;
}"""
LONGER_CURVE = """(before) => {
  const plot = document.getElementById("loss-plot");
  const points = plot.data && plot.data[0] ? plot.data[0].x.length : 0;
  return points > before ? points : null;
}"""
# A plain EventSource on a finished job: what it received by the time it stopped reconnecting
# (the server answers its reconnect, which names the final event, with 204), or by a deadline.
EVENT_SOURCE_TO_THE_END = """async ([url, deadlineMs]) => {
  const source = new EventSource(url);
  const seen = { opens: 0, finalIds: [], closed: false };
  source.onopen = () => { seen.opens += 1; };
  source.addEventListener("succeeded", (event) => seen.finalIds.push(event.lastEventId));
  await new Promise((resolve) => {
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) resolve(); };
    setTimeout(resolve, deadlineMs);
  });
  seen.closed = source.readyState === EventSource.CLOSED;
  source.close();
  return seen;
}"""
EVENT_SOURCE_DEADLINE_MS = 20_000
BOUNDARY_DRAWN = """() => {
  const plot = document.getElementById("boundary-plot");
  return Boolean(plot.data && plot.data.some((trace) => trace.type === "contour")
    && plot.querySelector(".contour"));
}"""


def fill_training_form(page: Any) -> None:
    """A small training that still runs a few seconds: 10,000 epochs of tiny mini-batches."""
    page.select_option("#generator", "moons")
    page.fill("#n-samples", "400")
    page.fill("#noise", "0.15")
    page.fill("#hidden-layers", "8, 8")
    page.select_option("#activation", "tanh")
    page.select_option("#optimizer", "sgd")
    page.fill("#learning-rate", "0.05")
    page.fill("#batch-size", "2")
    page.fill("#epochs", str(EPOCHS))
    page.fill("#name", "moons in the browser")


def test_page_trains_shows_the_live_curve_the_boundary_and_predicts(
    planenet_server: ServerFactory, browser_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = planenet_server(workers=1)
    page = browser_context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page_errors: list[str] = []

    def note_console(message: Any) -> None:
        if message.type == "error":
            page_errors.append(message.text)

    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", note_console)

    page.goto(f"{server.base_url}/")
    page.wait_for_function("() => window.Plotly && document.querySelector('#loss-plot .main-svg')")
    # The form's defaults are the API's own, read from its OpenAPI document.
    page.wait_for_function("() => !document.getElementById('training-fields').disabled")
    defaults = {
        "#epochs": str(TUTORIAL.epochs),
        "#learning-rate": str(TUTORIAL.learning_rate),
        "#hidden-layers": ", ".join(map(str, TUTORIAL.hidden_layers)),
        "#activation": TUTORIAL.activation,
        "#n-samples": str(DEFAULT_N_SAMPLES),
        "#generator": DEFAULT_GENERATOR,
    }
    assert {field: page.input_value(field) for field in defaults} == defaults
    fill_training_form(page)
    page.click("#start-button")

    partial = page.wait_for_function(RUNNING_CURVE).json_value()
    assert 0 < partial < EPOCHS
    longer = page.wait_for_function(LONGER_CURVE, arg=partial).json_value()
    assert longer > partial

    page.wait_for_function("() => document.getElementById('status').dataset.state === 'succeeded'")
    page.wait_for_function(BOUNDARY_DRAWN)
    assert page.evaluate("() => document.getElementById('loss-plot').data[0].x.length") == EPOCHS
    model_button = page.locator("#model-list button", has_text="moons in the browser")
    model_button.wait_for()

    plot_area = page.locator("#boundary-plot .nsewdrag").first.bounding_box()
    assert plot_area is not None
    click_x = plot_area["x"] + plot_area["width"] * 0.3
    click_y = plot_area["y"] + plot_area["height"] * 0.4
    page.mouse.move(click_x, click_y)
    page.mouse.click(click_x, click_y)
    page.wait_for_function("() => document.getElementById('prediction').dataset.probability")
    shown = page.evaluate("() => ({...document.getElementById('prediction').dataset})")
    assert "P(class 1)" in page.text_content("#prediction")

    model_id = page.evaluate("() => location.hash").removeprefix("#model=")
    with server.client() as client:
        answer = client.post(
            f"/models/{model_id}/predict", json={"points": [[float(shown["x"]), float(shown["y"])]]}
        ).json()
    assert float(shown["probability"]) == pytest.approx(answer["probabilities"][0])
    assert f"class {answer['labels'][0]}" in page.text_content("#prediction")

    with server.client() as client:
        job_id = client.get("/jobs", params={"limit": 1}).json()["items"][0]["id"]
    stream_end = page.evaluate(
        EVENT_SOURCE_TO_THE_END, [f"/jobs/{job_id}/events", EVENT_SOURCE_DEADLINE_MS]
    )
    assert stream_end == {"opens": 1, "finalIds": [f"{EPOCHS}-end"], "closed": True}

    folder = Path(tempfile.mkdtemp(prefix="planenet-browser-"))
    screenshot = folder / "finished-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot of the finished page: {screenshot}")
    assert screenshot.stat().st_size > 0

    # Reopening the model from the list shows it again, marked as the current one.
    model_button.click()
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'model'")
    assert model_button.get_attribute("aria-current") == "true"
    assert page.text_content("#prediction") == ""
    page.wait_for_function(BOUNDARY_DRAWN)

    choose_a_named_version_predict_and_evaluate(page, server)
    assert page_errors == []


# The labelled points the page's evaluation form holds at first.
EVALUATED_POINTS = [[1.0, 1.0, 0], [-1.0, -1.0, 1], [0.8, 1.2, 0], [-1.2, -0.7, 1], [0.1, -0.2, 1]]


def choose_a_named_version_predict_and_evaluate(page: Any, server: Any) -> None:
    """Two versions of one name (the first aliased): the list shows them by name; the first
    is opened, predicts at a threshold and is evaluated as the API evaluates it."""
    with server.client() as client:
        ids = []
        for seed in (1, 2):
            job = client.post("/jobs", json={"name": "browser-blobs", "epochs": 200, "seed": seed})
            ids.append(wait_for_job(client, job.json()["id"])["model_id"])
        aliased = client.put(
            "/registered-models/browser-blobs/aliases/champion", json={"version": 1}
        )
        assert aliased.status_code == 200
    page.click("#refresh-models")
    first = page.locator("#model-list button", has_text="browser-blobs v1 (champion)")
    first.wait_for()
    assert page.locator("#model-list button", has_text="browser-blobs v2").count() == 1
    assert "champion → v1" in page.text_content("#model-list")
    first.click()
    page.wait_for_function(
        "(id) => document.getElementById('model-summary').dataset.modelId === id", arg=ids[0]
    )
    assert "version 1 (champion)" in page.text_content("#model-summary")
    assert first.get_attribute("aria-current") == "true"
    page.fill("#predict-x", "0.3")
    page.fill("#predict-y", "0.1")
    page.fill("#threshold", "0.9")
    page.click("#predict-button")
    page.wait_for_function("() => document.getElementById('prediction').dataset.probability")
    with server.client() as client:
        answer = client.post(
            "/predict",
            json={"model": "browser-blobs@champion", "points": [[0.3, 0.1]], "threshold": 0.9},
        ).json()
        evaluated = client.post(
            "/models/browser-blobs@v1/evaluate",
            json={
                "points": [point[:2] for point in EVALUATED_POINTS],
                "labels": [point[2] for point in EVALUATED_POINTS],
                "threshold": 0.9,
            },
        ).json()
    assert f"class {answer['labels'][0]}" in page.text_content("#prediction")
    page.click("#evaluate-button")
    page.wait_for_function("() => document.getElementById('evaluation').dataset.accuracy")
    shown = page.evaluate("() => document.getElementById('evaluation').dataset.accuracy")
    assert float(shown) == evaluated["accuracy"]
    page.wait_for_function(
        "() => document.getElementById('roc-plot').data && "
        "document.getElementById('confusion-plot').data"
    )
    screenshot = Path(tempfile.mkdtemp(prefix="planenet-browser-")) / "evaluated-version.png"
    page.screenshot(path=str(screenshot), full_page=True)


def test_page_shows_api_errors_and_sends_the_pasted_key(
    planenet_server: ServerFactory, browser_context: Any
) -> None:
    server = planenet_server(
        workers=1, flags=["--protect-reads"], env={"PLANENET_API_KEY": API_KEY}
    )
    page = browser_context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{server.base_url}/")
    page.fill("#epochs", "2000")
    page.click("#start-button")
    page.wait_for_selector("#errors:not([hidden])")
    assert "Missing or invalid API key" in page.text_content("#errors")

    page.click("#key-details summary")
    page.fill("#api-key", API_KEY)
    page.fill("#epochs", "0")
    page.click("#start-button")
    page.wait_for_selector("#epochs[aria-invalid='true']")
    assert "body.epochs" in page.text_content("#errors")

    page.fill("#epochs", "2000")
    page.click("#start-button")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'succeeded'")
    assert page.is_hidden("#errors")
    # Every epoch's loss came over the stream (read with fetch, which can send the key).
    assert page.evaluate("() => document.getElementById('loss-plot').data[0].x.length") == 2000
    page.wait_for_function(BOUNDARY_DRAWN)

    page.fill("#predict-x", "1.5")
    page.fill("#predict-y", "0.5")
    page.press("#predict-y", "Enter")
    page.wait_for_function("() => document.getElementById('prediction').dataset.probability")
    shown = page.evaluate("() => ({...document.getElementById('prediction').dataset})")
    model_id = page.evaluate("() => location.hash").removeprefix("#model=")
    with server.client(headers={"X-API-Key": API_KEY}) as client:
        answer = client.post(f"/models/{model_id}/predict", json={"points": [[1.5, 0.5]]}).json()
    assert float(shown["probability"]) == pytest.approx(answer["probabilities"][0])


# The plotted boundary while a job trains: its epoch and its traces' shape, once they differ
# from ``before`` (the shape last seen); else null.
LIVE_EPOCHS = 60_000
"""Long enough, on the compiled engine (6,000 epochs take about a second), for the page to
redraw the live boundary several times before the job ends."""
LIVE_BOUNDARY = """(before) => {
  const plot = document.getElementById("boundary-plot");
  if (plot.dataset.source !== "job" || !plot.data) return null;
  const shape = JSON.stringify(plot.data.slice(0, 2).map((trace) => [trace.z, trace.x, trace.y]));
  return shape !== before ? { epoch: Number(plot.dataset.epoch), shape } : null;
}"""
MODEL_BOUNDARY = """() => {
  const plot = document.getElementById("boundary-plot");
  if (plot.dataset.source !== "model" || !plot.data) return null;
  return plot.data.slice(0, 2).map((trace) => [trace.z, trace.x, trace.y]);
}"""
REPLAY_READY = """() => {
  const plot = document.getElementById("replay-plot");
  const frames = plot._transitionData && plot._transitionData._frames;
  const slider = plot.querySelector(".slider-container");
  if (!plot.dataset.model || !frames || !frames.length || !slider) return null;
  window.replayEnded = false;
  plot.on("plotly_animated", () => { window.replayEnded = true; });
  return frames.length;
}"""
NEURON_MAPS = """() => {
  const plot = document.getElementById("neuron-plot");
  if (!plot.dataset.model || !plot.data || !plot.querySelector(".main-svg")) return null;
  return plot.data.filter((trace) => trace.type === "heatmap").length;
}"""


def test_page_redraws_the_boundary_while_training_then_replays_and_shows_neurons(
    planenet_server: ServerFactory, browser_context: Any
) -> None:
    server = planenet_server(workers=1)
    page = browser_context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on(
        "console",
        lambda message: page_errors.append(message.text) if message.type == "error" else None,
    )
    page.goto(f"{server.base_url}/")
    page.wait_for_function("() => !document.getElementById('training-fields').disabled")
    # The feature choices and their defaults come from the API's OpenAPI document.
    boxes = page.locator("#features input")
    assert sorted(boxes.evaluate_all("(all) => all.map((box) => box.value)")) == sorted(FEATURES)
    checked = boxes.evaluate_all(
        "(all) => all.filter((box) => box.checked).map((box) => box.value)"
    )
    assert checked == list(DEFAULT_FEATURES)
    fill_training_form(page)
    page.fill("#epochs", str(LIVE_EPOCHS))
    page.check("#features input[value='x1*x2']")
    page.fill("#l1", "0.001")
    page.click("#start-button")

    first = page.wait_for_function(LIVE_BOUNDARY, arg="").json_value()
    second = page.wait_for_function(LIVE_BOUNDARY, arg=first["shape"]).json_value()
    assert 0 <= first["epoch"] < second["epoch"] < LIVE_EPOCHS
    assert first["shape"] != second["shape"]

    page.wait_for_function("() => document.getElementById('status').dataset.state === 'succeeded'")
    drawn = page.wait_for_function(MODEL_BOUNDARY).json_value()
    model_id = page.evaluate("() => location.hash").removeprefix("#model=")
    with server.client() as client:
        model = client.get(f"/models/{model_id}").json()
        figure = client.get(f"/models/{model_id}/figures/boundary").json()
    assert model["config"]["features"] == ["x1", "x1*x2", "x2"]
    assert model["config"]["l1"] == 0.001
    assert drawn == [[trace.get("z"), trace["x"], trace["y"]] for trace in figure["data"][:2]]

    assert page.wait_for_function(NEURON_MAPS).json_value() == 8 + 8 + 1
    page.click("#replay-button")
    frames = page.wait_for_function(REPLAY_READY).json_value()
    assert 2 <= frames <= 200
    page.locator("#replay-plot .updatemenu-button", has_text="Play").click()
    page.wait_for_function("() => window.replayEnded === true")
    active = page.evaluate("() => document.getElementById('replay-plot').layout.sliders[0].active")
    assert active == frames - 1
    assert page_errors == []


MORE_THAN_A_PAGE = 103
LISTED = "() => document.querySelectorAll('#model-list button').length"


def test_the_model_list_shows_older_models_a_page_at_a_time(
    planenet_server: ServerFactory, browser_context: Any
) -> None:
    server = planenet_server(workers=2)
    with server.client() as client:
        jobs = [
            client.post("/jobs", json={"epochs": 1}).json()["id"] for _ in range(MORE_THAN_A_PAGE)
        ]
        model_ids = [wait_for_job(client, job_id)["model_id"] for job_id in jobs]
        newest_first = [
            item["id"]
            for offset in (0, 100)
            for item in client.get("/models", params={"limit": 100, "offset": offset}).json()[
                "items"
            ]
        ]
    assert sorted(newest_first) == sorted(model_ids)
    page = browser_context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(f"{server.base_url}/")
    page.wait_for_function(f"() => ({LISTED})() === 100")
    assert (
        page.text_content("#models-note")
        == f"The newest 100 of {MORE_THAN_A_PAGE} models, newest first."
    )
    page.click("#more-models")
    page.wait_for_function(f"() => ({LISTED})() === {MORE_THAN_A_PAGE}")
    assert page.text_content("#models-note") == f"{MORE_THAN_A_PAGE} models, newest first."
    assert page.is_hidden("#more-models")
    listed = page.eval_on_selector_all(
        "#model-list button", "(buttons) => buttons.map((button) => button.dataset.modelId)"
    )
    assert listed == newest_first
