"""User text reaches every page as text, never as markup: markup planted in every field a user writes
(a job's name, a group's name, run labels in both languages, a lesson's overrides) must show up
literally and run nothing, in Chromium, on the playground, the lessons index and the compare view."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.live import LiveServer

# each would set window.planted if the browser ever treated it as markup
PAYLOADS = [
    "<img src=x onerror=\"window.planted='img'\">",
    "<script>window.planted='script'</script>",
    "<svg onload=\"window.planted='svg'\"></svg>",
]
SPEC = {"data": {"dataset": "xor", "n_points": 100}, "model": {"hidden": [4]}, "optim": {"steps": 30, "eval_every": 10}}


def planted(page: Page) -> object:
    return page.evaluate("() => window.planted")


def test_markup_in_every_user_field_is_shown_as_text_and_runs_nothing(server: LiveServer, page: Page) -> None:
    job = server.submit({**SPEC, "name": PAYLOADS[0]})
    variations = [
        {"label": PAYLOADS[1], "label_ko": PAYLOADS[2], "changes": {"model.activation": "relu"}},
        {"label": PAYLOADS[2], "label_ko": PAYLOADS[0], "changes": {"model.activation": "tanh"}},
    ]
    response = server.post("/api/groups", {"name": PAYLOADS[2], "base": SPEC, "variations": variations})
    assert response.status_code == 201, response.text
    group = response.json()
    lesson = server.post("/api/lessons/bias/run", {"overrides": {"name": PAYLOADS[1], "optim.steps": 30}})
    assert lesson.status_code == 201, lesson.text
    server.wait_status(job["id"], {"done"})
    server.wait_group(group["id"])

    page.goto(server.url)  # the runs list shows every job's name
    page.wait_for_function("() => document.querySelector(\"[data-testid='runs'] table\")")
    page.wait_for_function(
        f"() => document.querySelector(\"[data-testid='runs']\").textContent.includes({PAYLOADS[0]!r})"
    )
    assert planted(page) is None

    page.goto(f"{server.url}/lessons.html")  # the index lists groups by name
    page.wait_for_function(f"() => document.getElementById('group-list').textContent.includes({PAYLOADS[2]!r})")
    assert planted(page) is None

    page.goto(f"{server.url}/lessons.html#group={group['id']}")  # the compare view names every run
    page.wait_for_function(f"() => document.getElementById('differs').textContent.includes({PAYLOADS[1]!r})")
    page.wait_for_function("() => document.querySelector(\"[data-testid='compare-loss-step']\")?.data?.length >= 2")
    page.click("#language")  # the Korean labels too
    page.wait_for_function(f"() => document.getElementById('differs').textContent.includes({PAYLOADS[0]!r})")
    assert planted(page) is None
    assert page.locator("#differs img, #differs script, #differs svg, [data-testid='runs'] img").count() == 0
