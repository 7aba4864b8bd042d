"""Sign-in end to end in a real browser: the app against a local OpenID Connect provider (oidc-provider-mock,
started by the tests on localhost) and with local accounts (the demo roles file).

Signing in shows the user's name, signing out ends the session; a forged or altered session cookie, and a
sign-in older than the session lifetime, are refused; a viewer sees no edit controls.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.test_app_pages import demo_once
from tests.test_browser import (  # noqa: F401  (browser is a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    HEIGHT,
    WIDTH,
    _free_port,
    browser,
    serve_app,
    wait_idle,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO_ROLES = ROOT / "data" / "demo" / "roles.yaml"
USERS = {
    "alice@northwind.example": {"email": "alice@northwind.example", "name": "Alice Admin",
                                "groups": ["riskmap-admin", "riskmap-contributor"]},
    "vera.osei@northwind.example": {"email": "vera.osei@northwind.example", "name": "Vera Osei", "groups": []},
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("access-browser") / "demo.duckdb"
    shutil.copyfile(demo_once(tmp_path_factory), path)
    return path


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A local OpenID Connect provider with two users (their claims: e-mail, name, groups)."""
    import httpx
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread(port=_free_port()) as server:
        base = f"http://localhost:{server.server_port}"
        for sub, claims in USERS.items():
            httpx.put(f"{base}/users/{sub}", json=claims, timeout=10).raise_for_status()
        yield base


def _oidc_app(demo: Path, provider: str, work: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    port = _free_port()
    secrets = work / "secrets.toml"
    secrets.write_text(f'''[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-{port}"
client_id = "riskmap"
client_secret = "riskmap-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
''', encoding="utf-8")
    with serve_app(demo, work / "streamlit.log", port=port, args=("--secrets.files", str(secrets)),
                   env={"RISKMAP_ROLES": str(DEMO_ROLES), **(env or {})}) as url:
        yield url


@pytest.fixture(scope="module")
def oidc_url(demo: Path, provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _oidc_app(demo, provider, tmp_path_factory.mktemp("oidc"))


@pytest.fixture
def context(browser):  # noqa: F811
    ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def heading(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def sidebar(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def sign_in_with_provider(page, url: str, sub: str) -> None:
    page.goto(url)
    wait_idle(page)
    assert heading(page) == "Sign in to riskmap"
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name=sub]")  # the provider's form
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    wait_idle(page)


def test_sign_in_shows_the_user_and_sign_out_ends_the_session(oidc_url: str, provider: str, context) -> None:
    page = context.new_page()
    sign_in_with_provider(page, oidc_url, "alice@northwind.example")
    assert heading(page) == "Overview"
    assert "Signed in as Alice Admin (alice@northwind.example)" in sidebar(page)
    assert page.get_by_text("runs without sign-in").count() == 0
    assert "_streamlit_user" in {c["name"] for c in context.cookies()}
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider}/**")  # the provider's end of session page
    page.goto(oidc_url)
    wait_idle(page)
    assert heading(page) == "Sign in to riskmap"
    assert "_streamlit_user" not in {c["name"] for c in context.cookies()}


def test_a_forged_or_altered_session_cookie_is_refused(oidc_url: str, context, browser) -> None:  # noqa: F811
    forged = base64.urlsafe_b64encode(json.dumps({"email": "alice@northwind.example", "name": "Alice Admin",
                                                  "is_logged_in": True, "groups": ["riskmap-admin"]}).encode())
    page = context.new_page()
    context.add_cookies([{"name": "_streamlit_user", "value": forged.decode(), "url": oidc_url}])
    page.goto(oidc_url)
    wait_idle(page)
    assert heading(page) == "Sign in to riskmap", "an unsigned cookie was accepted"
    # a genuine cookie with one character of its payload changed
    sign_in_with_provider(page, oidc_url, "alice@northwind.example")
    assert heading(page) == "Overview"
    real = next(c for c in context.cookies() if c["name"] == "_streamlit_user")
    value = real["value"]
    i = len(value) // 3
    altered = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]
    other = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        other.add_cookies([{**{k: real[k] for k in ("name", "domain", "path")}, "value": altered}])
        fresh = other.new_page()
        fresh.goto(oidc_url)
        wait_idle(fresh)
        assert heading(fresh) == "Sign in to riskmap", "an altered cookie was accepted"
    finally:
        other.close()


def test_a_viewer_sees_the_register_without_edit_controls(oidc_url: str, context) -> None:
    page = context.new_page()
    sign_in_with_provider(page, oidc_url, "vera.osei@northwind.example")
    assert "Signed in as Vera Osei" in sidebar(page)
    page.goto(f"{oidc_url}/register")
    wait_idle(page)
    assert heading(page) == "Risk register"
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1
    assert page.get_by_role("button", name="Save changes").count() == 0
    assert page.get_by_text("Read only: your roles (viewer)").count() == 1
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Import" not in nav and "Risk register" in nav


def test_a_sign_in_older_than_the_session_lifetime_is_refused(demo: Path, provider: str, context,
                                                              tmp_path: Path) -> None:
    lifetime = 40.0  # seconds
    for url in _oidc_app(demo, provider, tmp_path, env={"RISKMAP_SESSION_HOURS": str(lifetime / 3600)}):
        page = context.new_page()
        sign_in_with_provider(page, url, "alice@northwind.example")
        assert heading(page) == "Overview"
        time.sleep(lifetime + 2)  # the identity token was issued before the sign-in completed
        page.reload()
        wait_idle(page)
        assert heading(page) == "Sign in to riskmap"
        assert page.get_by_text("Your session has expired").count() == 1


def test_a_local_account_signs_in_with_its_password(demo: Path, context, tmp_path: Path) -> None:
    with serve_app(demo, tmp_path / "streamlit.log", env={"RISKMAP_ROLES": str(DEMO_ROLES)}) as url:
        page = context.new_page()
        page.goto(url)
        wait_idle(page)
        assert heading(page) == "Sign in to riskmap"
        page.get_by_role("textbox", name="User").fill("priya.raman@northwind.example")
        page.get_by_role("textbox", name="Password").fill("not her password")
        page.get_by_role("button", name="Sign in").click()
        wait_idle(page)
        assert page.get_by_text("unknown user or wrong password").count() == 1
        page.get_by_role("textbox", name="Password").fill("contributor-demo-password")
        page.get_by_role("button", name="Sign in").click()
        wait_idle(page)
        assert heading(page) == "Overview"
        assert "Signed in as Priya Raman (priya.raman@northwind.example)" in sidebar(page)
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Risk register").click()  # the same session
        wait_idle(page)
        # a contributor of the Clinical unit: only the Clinical risks are in her register
        with duckdb.connect(str(demo), read_only=True) as con:
            clinical, total = con.execute("SELECT count(*) FILTER (WHERE business_unit = 'Clinical'), count(*) "
                                          "FROM risks").fetchone()
        caption = page.get_by_text("matching risk(s)").first.inner_text()
        assert caption.endswith(f"; {clinical} in the register") and clinical < total, caption
        assert page.get_by_role("button", name="Save changes").count() == 1
