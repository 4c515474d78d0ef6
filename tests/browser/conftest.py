"""End-to-end tests: the real admin in headless Chromium (Debian's package) via Playwright."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the tests still call the ORM
# between page steps, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parents[2] / "var/screenshots"))
# The widths every walk runs at: a laptop with the admin's sidebar open, and a phone.
WIDTHS = [1280, 390]
AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = "axe-core is not installed: npm ci --prefix tests/browser (make test does it)."
BLOCKING = {"serious", "critical"}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""

# Fix buttons, Apply and the links that lead on: never clipped by the window, and on one line
# where the window is wide. Lists: no column cut off on a wide window (a phone scrolls the
# table itself, as the admin does). Support pages: no sideways scrolling.
LAYOUT = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const buttons = "a.fix-button, #apply-button, #back-link, .console-links a.button";
  for (const el of document.querySelectorAll(buttons)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.3;
    const frame = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom)
      + parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
    const name = el.textContent.trim() || el.value;
    if (box.left < -1 || box.right > width + 1) problems.push(`${name}: clipped`);
    if (width >= 1024 && box.height > frame + line * 1.5) problems.push(`${name}: broken in two`);
  }
  for (const results of document.querySelectorAll("#changelist .results")) {
    if (width >= 1024 && results.scrollWidth > results.clientWidth + 1) {
      problems.push("list columns cut off");
    }
  }
  if (document.querySelector(".support-page")
      && document.documentElement.scrollWidth > width + 1) {
    problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth}px)`);
  }
  return problems;
}"""


def _chromium() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: make test installs Debian's chromium package.")
        pytest.skip("Chromium is not installed (make test installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The pages run under the Content-Security-Policy: Chromium reports each refusal (an inline
    # script, an inline handler, a script from elsewhere) on the console.
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert refused == [], f"the Content-Security-Policy refused: {refused}"


@pytest.fixture
def login(page):
    def login(username: str, password: str = "pw"):
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        return page

    return login


@pytest.fixture
def screenshot(page):
    """Saved as <name>.png at 1280 px, <name>-<width>.png at other widths."""

    def take(name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        suffix = "" if width == WIDTHS[0] else f"-{width}"
        page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True)

    return take


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists():
        if os.environ.get("CI"):
            pytest.fail(AXE_MISSING)
        pytest.skip(AXE_MISSING)
    return AXE_JS.read_text()


@pytest.fixture
def check(page, axe_source):
    """The page now shown: axe-core finds no serious or critical violation, and the layout
    holds (see LAYOUT). Returns the page for chaining."""

    def check_page():
        page.wait_for_load_state()
        # evaluate() runs outside the page's Content-Security-Policy, which bars inline script.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        where = f"{page.url} at {page.viewport_size['width']} px"
        found = [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
        assert not found, f"axe-core on {where}: " + "; ".join(
            f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in found
        )
        layout = page.evaluate(LAYOUT)
        assert not layout, f"layout on {where}: " + "; ".join(layout)
        return page

    return check_page


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def width(request, page):
    page.set_viewport_size({"width": request.param, "height": 900})
    return request.param


# The three kinds of staff a walk runs as: (fixture, username).
ROLES = {
    "support": ("support_user", "support-sam"),
    "lead": ("lead_user", "support-lead"),
    "viewer": ("viewer_user", "viewer-val"),
}


@pytest.fixture(params=list(ROLES))
def role(request):
    """Logs nobody in: creates the staff user of the role and returns the role's name."""
    fixture, _username = ROLES[request.param]
    request.getfixturevalue(fixture)
    return request.param


@pytest.fixture
def login_as(login):
    def login_role(role: str):
        return login(ROLES[role][1])

    return login_role


from tests.orgs.keycloak_fixtures import (  # noqa: E402, F401 - the real Keycloak's fixtures
    kc,
    kc_admin,
    keycloak_server,
    keycloak_settings,
)
