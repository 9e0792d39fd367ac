"""The built-in page in a real browser: accessible, self-contained, styled under its own CSP.

Pages are served through Playwright's request interception with the renderer's real headers, so the
Content-Security-Policy is enforced exactly as a server would send it, and nothing touches the network.
Screenshots land in ``artifacts/screenshots/`` for a person to look at.

Needs Chromium at /usr/bin/chromium and ``npm install axe-core`` at the repository root; without them
these tests fail, unless FRIENDLY_ERRORS_SKIP_BROWSER=1 says to skip them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from friendly_errors.rendering import RenderedError, Renderer, RequestInfo

if TYPE_CHECKING:
    from playwright.sync_api import Browser, FloatRect, Page, Route

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# A host that cannot resolve: the page is answered by interception, so a request that escaped it
# would fail rather than reach anything.
PAGE_URL = "https://friendly-errors.invalid/checkout/confirm"
CODES = [404, 500, 502, 503, 524]
CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"Chromium is missing at {CHROMIUM} (apt-get install -y chromium)"
    if not AXE.exists():
        return f"axe-core is missing at {AXE} (run: npm install --no-save axe-core)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    problem = _missing()
    if problem is not None:
        if os.environ.get("FRIENDLY_ERRORS_SKIP_BROWSER") == "1":
            pytest.skip(problem)
        pytest.fail(f"{problem}; set FRIENDLY_ERRORS_SKIP_BROWSER=1 to skip the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(
        site_name="Example Shop",
        home_url="https://shop.example/",
        contact_url="mailto:help@shop.example",
    )


def _render(renderer: Renderer, code: int, lang: str = "en") -> RenderedError:
    """Each page carries some optional part, so together they cover the whole template."""
    headers = {"accept": CHROME_ACCEPT, "accept-language": lang}
    return renderer.render(
        code,
        RequestInfo("GET", "/checkout/confirm", headers=headers),
        request_id="7f3c9a1e2b4d4c8e9a0b1c2d3e4f5a6b",
        detail="The payment service did not answer in time." if code == 502 else None,
        retry_after=120 if code == 503 else None,
        traceback=(
            'Traceback (most recent call last):\n  File "app.py", line 12, in view\n'
            "    total = order.total / order.count\nZeroDivisionError: division by zero\n"
            if code == 500
            else None
        ),
    )


class Visit:
    """One page loaded the way a browser would receive it, with everything it tried to fetch."""

    def __init__(self, browser: Browser, rendered: RenderedError, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append(message.text))

        def answer(route: Route) -> None:
            if route.request.url == PAGE_URL:
                route.fulfill(
                    status=rendered.status, headers=dict(rendered.headers), body=rendered.body
                )
            else:
                route.abort()

        self.page.route("**/*", answer)
        self.page.goto(PAGE_URL)

    def close(self) -> None:
        self.context.close()

    def axe_violations(self) -> list[dict[str, Any]]:
        # evaluate() runs through DevTools, so axe does not need the script-src the page forbids.
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
        )
        violations: list[dict[str, Any]] = result["violations"]
        return violations


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["html"][:120] for node in v["nodes"][:3])
        for v in violations
    )


@pytest.mark.parametrize("width", [375, 1280], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("code", CODES, ids=str)
def test_page_is_accessible_self_contained_and_styled(
    browser: Browser, renderer: Renderer, code: int, scheme: str, width: int
) -> None:
    rendered = _render(renderer, code)
    visit = Visit(browser, rendered, viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = visit.page
        # The stylesheet applied although the CSP allows no inline style but by hash.
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(244, 245, 247)" if scheme == "light" else "rgb(15, 17, 21)")
        assert not [m for m in visit.console if "Content Security Policy" in m], visit.console
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{code}-{scheme}-{width}.png", full_page=True)

        # Collapsed developer details still count: open them so their contrast is checked too.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
        if code == 500:
            page.screenshot(path=SCREENSHOTS / f"{code}-{scheme}-{width}-open.png", full_page=True)
        violations = visit.axe_violations()
        assert violations == [], _describe(violations)
        assert visit.requests == [PAGE_URL], "the page fetched something: " + repr(visit.requests)
    finally:
        visit.close()


@pytest.mark.parametrize("code", CODES, ids=str)
def test_no_horizontal_scroll_at_320_px_and_at_200_percent_zoom(
    browser: Browser, renderer: Renderer, code: int
) -> None:
    """WCAG 1.4.10 reflow: 320 CSS pixels, which is also a 640 px window at 200% zoom."""
    rendered = _render(renderer, code)
    for options in (
        {"viewport": {"width": 320, "height": 640}},
        {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
    ):
        visit = Visit(browser, rendered, **options)
        try:
            visit.page.evaluate(
                "document.querySelectorAll('details').forEach(d => { d.open = true })"
            )
            overflow = visit.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0
        finally:
            visit.close()


def test_developer_details_start_collapsed(browser: Browser, renderer: Renderer) -> None:
    visit = Visit(browser, _render(renderer, 500), viewport={"width": 1280, "height": 900})
    try:
        assert visit.page.locator("details").evaluate("d => d.open") is False
        assert not visit.page.get_by_text("ZeroDivisionError: division by zero").is_visible()
    finally:
        visit.close()


def test_reduced_motion_stops_the_animation(browser: Browser, renderer: Renderer) -> None:
    visit = Visit(browser, _render(renderer, 500), reduced_motion="reduce")
    try:
        name = visit.page.evaluate(
            "getComputedStyle(document.querySelector('.node.is-failed .icon')).animationName"
        )
        assert name == "none"
    finally:
        visit.close()


# -- other languages (issue #12) ------------------------------------------------------------------

#: Right to left, CJK, long compounds, Cyrillic: the languages most likely to break the layout.
LANGUAGES = ["ar", "ja", "de", "ru"]


def _render_everything(renderer: Renderer, lang: str, code: int = 503) -> RenderedError:
    """One page with every optional part: the app's detail, a wait, a traceback, all buttons."""
    return renderer.render(
        code,
        RequestInfo("GET", "/checkout/confirm", headers={"accept": CHROME_ACCEPT,
                                                         "accept-language": lang}),
        request_id="7f3c9a1e2b4d4c8e9a0b1c2d3e4f5a6b",
        detail="The payment service did not answer in time.",
        retry_after=120,
        traceback='Traceback (most recent call last):\n  File "app.py", line 12, in view\n'
        "ZeroDivisionError: division by zero\n",
    )  # fmt: skip


@pytest.mark.parametrize("width", [375, 1280], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_translated_page_is_accessible(
    browser: Browser, renderer: Renderer, lang: str, scheme: str, width: int
) -> None:
    rendered = _render_everything(renderer, lang)
    assert dict(rendered.headers)["Content-Language"] == lang
    visit = Visit(browser, rendered, viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page = visit.page
        assert page.evaluate("document.documentElement.lang") == lang
        assert not [m for m in visit.console if "Content Security Policy" in m], visit.console
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"503-{lang}-{scheme}-{width}.png", full_page=True)
        violations = visit.axe_violations()
        assert violations == [], _describe(violations)
        assert visit.requests == [PAGE_URL]
    finally:
        visit.close()


def _box(page: Page, selector: str) -> FloatRect:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_right_to_left_page_is_mirrored_diagram_included(
    browser: Browser, renderer: Renderer, lang: str
) -> None:
    """The request flows from the visitor's side: from the right in Arabic."""
    rendered = _render_everything(renderer, lang, 524)
    visit = Visit(browser, rendered, viewport={"width": 1280, "height": 900})
    try:
        page = visit.page
        rtl = lang == "ar"
        assert page.evaluate("getComputedStyle(document.body).direction") == (
            "rtl" if rtl else "ltr"
        )
        browser_node, server_node = _box(page, ".node:first-child"), _box(page, ".node:last-child")
        assert (browser_node["x"] > server_node["x"]) is rtl
        # The badge sits at the icon's outer corner, the error tag at the far end of the header,
        # the note's bar and the list bullets on the side text starts from.
        icon, badge = _box(page, ".node:first-child .icon"), _box(page, ".node:first-child .badge")
        assert (badge["x"] < icon["x"]) is rtl
        main, tag = _box(page, "main"), _box(page, ".tag")
        assert (tag["x"] < main["x"] + main["width"] / 2) is rtl
        bar = page.evaluate(
            "getComputedStyle(document.querySelector('.note'))."
            + ("borderRightWidth" if rtl else "borderLeftWidth")
        )
        assert bar == "4px"
        # The app's English detail and the traceback read left to right on any page.
        for selector in (".detail", ".trace"):
            direction = f"getComputedStyle(document.querySelector('{selector}')).direction"
            assert page.evaluate(direction) == "ltr", selector
        wire, cross = _box(page, ".link.is-failed .wire"), _box(page, ".link.is-failed .badge")
        middle = cross["x"] + cross["width"] / 2
        assert abs(middle - (wire["x"] + wire["width"] / 2)) < 2, "the cross stays centred"
    finally:
        visit.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_horizontal_scroll_or_spilling_words_at_320_px(
    browser: Browser, renderer: Renderer, lang: str
) -> None:
    """WCAG 1.4.10 with German's long compounds, Russian's long words and no spaces in Japanese."""
    rendered = _render_everything(renderer, lang)
    for options in (
        {"viewport": {"width": 320, "height": 640}},
        {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
    ):
        visit = Visit(browser, rendered, **options)
        try:
            page = visit.page
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0
            # Each box of the diagram holds its words: none spills into its neighbour.
            spilled = page.evaluate(
                "[...document.querySelectorAll('.node > span:not(.icon)')]"
                ".filter(e => e.scrollWidth > e.parentElement.clientWidth + 1)"
                ".map(e => e.textContent)"
            )
            assert spilled == []
        finally:
            visit.close()
