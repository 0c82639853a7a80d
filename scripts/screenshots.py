"""Screens of what a person meets, in English and Korean, to compare one checkout's page with another's
(issue 22's "before and after"): the same runs and the same views, saved as PNGs to look at.

    .venv/bin/python scripts/screenshots.py OUT_DIR [--code OTHER_CHECKOUT]

--code serves another checkout's backend (its page included) with this checkout's Python packages, so
`git worktree add ../before <commit>` then `--code ../before` takes the "before" set. Loopback only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.live import LiveServer

CNN = {"data": {"kind": "digits"}, "model": {"kind": "cnn2d", "hidden": [32], "activation": "relu"}}
CNN_RUN = {**CNN, "optim": {"lr": 0.003, "batch_size": 64, "steps": 300}, "pace": 0}
SHIFTED = {
    "data": {"kind": "digits", "canvas": 16, "shift": 4},
    "model": {**CNN["model"], "conv": [{"channels": 8}, {"channels": 16}, {"channels": 16}]},
    "optim": {"lr": 0.003, "batch_size": 64, "steps": 300},
    "pace": 0,
}


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.querySelector('#spec-form select')", timeout=60_000)
    page.wait_for_timeout(1500)  # the preview and the charts settle: a picture, not a wait for a result


def finish(page: Page, wait_s: float = 120) -> None:
    page.wait_for_function("() => document.body.dataset.run === 'done'", timeout=wait_s * 1000)
    page.evaluate("() => window.trainscope && window.trainscope.drawAll && window.trainscope.drawAll()")
    page.wait_for_timeout(1500)


def scenes(server: LiveServer, runs: dict[str, str]) -> dict[str, tuple[tuple[int, int], Callable[[Page], None]]]:
    """name -> (viewport, what to do before the full-page screenshot)."""

    def compare(page: Page) -> None:  # row 1
        page.goto(f"{server.url}/lessons.html#runs={runs['cnn']},{runs['shifted']}")
        page.wait_for_timeout(6000)

    def cnn_form(page: Page) -> None:  # row 2
        open_page(page, server.url + "/")
        page.select_option("select[name='model.kind']", "cnn2d")
        page.wait_for_timeout(500)

    def cnn_run(page: Page) -> None:  # rows 11 and 13
        open_page(page, f"{server.url}/#job={runs['cnn']}")
        page.wait_for_timeout(4000)
        page.evaluate("() => window.trainscope && window.trainscope.drawAll && window.trainscope.drawAll()")

    def default_run(page: Page) -> None:  # rows 7, 8 and 13 on the playground
        open_page(page, server.url + "/")
        page.select_option("select[name=pace]", "0")
        page.click("#start")
        finish(page)

    def lesson(lesson_id: str) -> Callable[[Page], None]:  # row 7
        def show(page: Page) -> None:
            page.goto(f"{server.url}/lessons.html#{lesson_id}")
            page.wait_for_function("() => document.querySelectorAll('#previous option').length > 1", timeout=60_000)
            page.select_option("#previous", index=1)
            page.wait_for_timeout(6000)

        return show

    def projector(page: Page) -> None:  # row 12
        open_page(page, server.url + "/")
        page.click("#projector")
        page.select_option("select[name='model.kind']", "cnn2d")
        page.wait_for_timeout(500)

    return {
        "row01-compare": ((1366, 900), compare),
        "row02-cnn-form": ((1366, 900), cnn_form),
        "row06-page": ((1366, 900), lambda page: open_page(page, server.url + "/")),
        "row07-optimizers": ((1366, 900), lesson("optimizers")),
        "row07-generalization": ((1366, 900), lesson("generalization")),
        "row08-13-default-run": ((1366, 900), default_run),
        "row11-13-cnn-run": ((1366, 900), cnn_run),
        "row12-800x600": ((800, 600), lambda page: open_page(page, server.url + "/")),
        "row12-projector": ((1280, 800), projector),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--code", type=Path, help="another checkout whose backend (and page) to serve")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": str(args.code.resolve() / "backend")} if args.code else {}
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: scripts/test installs it"
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server = LiveServer(Path(folder) / "screens.db", workers=2, env=env).start()
        browser: Browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            runs = {"cnn": server.submit(CNN_RUN)["id"], "shifted": server.submit(SHIFTED)["id"]}
            for lesson_id in ("optimizers", "generalization"):
                server.wait_group(server.post(f"/api/lessons/{lesson_id}/run", {}).json()["id"], timeout=600)
            for job_id in runs.values():
                server.wait_status(job_id, {"done"})
            for name, ((width, height), act) in scenes(server, runs).items():
                for language in ("en", "ko"):
                    context = browser.new_context(viewport={"width": width, "height": height})
                    context.add_init_script(f"localStorage.setItem('trainscope-language', '{language}')")
                    page = context.new_page()
                    act(page)
                    page.screenshot(path=str(args.out / f"{name}-{language}.png"), full_page=True)
                    context.close()
                    print(args.out / f"{name}-{language}.png")
        finally:
            browser.close()
            server.stop()


if __name__ == "__main__":
    main()
