"""The pages sign in through the Firebase JS SDK (web/vendor/firebase.js): anonymous
sign-up on the Auth emulator, the user kept across reloads, one user per role in one
browser, tokens refreshed by the library, and, with App Check on, its token sent to the
host API and the gateway."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Request, Route, expect

from gateway.static import WEB_ROOT, StaticFiles
from tests.browser.harness import LAPTOP, PHONE, PlayerPage

pytestmark = pytest.mark.stack

SIGN_UP = "/identitytoolkit.googleapis.com/v1/accounts:signUp"
REFRESH = "/securetoken.googleapis.com/v1/token"


@pytest.fixture
async def problems() -> AsyncIterator[list[str]]:
    """Uncaught script errors and CSP refusals on any page of the test: there must be none."""
    found: list[str] = []
    yield found
    assert found == []


@pytest.fixture
def web_config(web_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{web_url}/config.json") as response:
        config: dict[str, Any] = json.load(response)
    assert config["auth_emulator_url"], "the local stack serves the Auth emulator's URL"
    return config


async def _context(browser: Browser, problems: list[str]) -> BrowserContext:
    """A fresh browser profile (its own localStorage); every page reports its problems."""
    context = await browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)

    def watch(page: Page) -> None:
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

    context.on("page", watch)
    return context


async def _stored_user(page: Page, config: dict[str, Any], role: str) -> dict[str, Any] | None:
    """The user the SDK persisted for the Firebase app named `role` (browserLocalPersistence)."""
    key = f"firebase:authUser:{config['firebase_api_key']}:{role}"
    raw = await page.evaluate("key => localStorage.getItem(key)", key)
    return json.loads(raw) if raw else None


async def _signed_in_host(page: Page, web_url: str) -> None:
    """Open the host page; it signs in to list the quizzes."""
    await page.goto(f"{web_url}/host.html")
    await _quizzes_listed(page)


async def _quizzes_listed(page: Page) -> None:
    try:
        await expect(page.locator("#quiz-select optgroup option").first).to_be_attached()
    except AssertionError as failed:
        alert = await page.locator("#alert").text_content()
        raise AssertionError(f"the host page listed no quiz; its alert says {alert!r}") from failed


def _emulator_user(config: dict[str, Any], uid: str) -> dict[str, Any] | None:
    """The account as the Auth emulator holds it (its admin lookup, "Bearer owner")."""
    url = (
        f"{config['auth_emulator_url']}/identitytoolkit.googleapis.com/v1/projects/"
        f"{config['project_id']}/accounts:lookup"
    )
    request = urllib.request.Request(
        url,
        data=json.dumps({"localId": [uid]}).encode(),
        headers={"Authorization": "Bearer owner", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        users = json.load(response).get("users", [])
    return users[0] if users else None


async def test_host_page_signs_up_through_the_sdk_on_the_auth_emulator_and_a_reload_keeps_the_user(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    context = await _context(browser, problems)
    page = await context.new_page()
    sign_ups: list[Request] = []
    page.on("request", lambda request: sign_ups.append(request) if SIGN_UP in request.url else None)

    await _signed_in_host(page, web_url)
    assert len(sign_ups) == 1
    assert sign_ups[0].url.startswith(f"{web_config['auth_emulator_url']}{SIGN_UP}")
    # The SDK names itself on every call (the hand-written client sent no such header).
    assert re.search(r"/JsCore/12\.", await sign_ups[0].header_value("x-client-version") or "")
    user = await _stored_user(page, web_config, "host")
    assert user and user["isAnonymous"]
    account = _emulator_user(web_config, user["uid"])
    assert account is not None and account["localId"] == user["uid"]

    await page.reload()
    await _quizzes_listed(page)
    assert len(sign_ups) == 1  # no new user
    assert (await _stored_user(page, web_config, "host") or {})["uid"] == user["uid"]
    await context.close()


async def test_host_and_player_tabs_in_one_browser_are_two_users(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    context = await _context(browser, problems)
    host = await context.new_page()
    await _signed_in_host(host, web_url)
    await host.get_by_label("Choose a quiz").select_option("vocab-101")
    await host.get_by_role("button", name="Create session").click()
    await expect(host.locator("#join-link")).to_have_attribute("href", re.compile(r"\?code=[A-Z0-9]{6}$"))
    join_link = await host.locator("#join-link").get_attribute("href")
    assert join_link

    player_page = await context.new_page()  # a second tab, same localStorage
    await player_page.set_viewport_size(PHONE)
    await PlayerPage(player_page, "Tab").join_by_link(join_link)
    host_user = await _stored_user(host, web_config, "host")
    player_user = await _stored_user(player_page, web_config, "player")
    assert host_user and player_user and host_user["uid"] != player_user["uid"]
    # The host sees the player tab as a player of its own.
    joined = host.locator("#participants li")
    await expect(joined).to_have_count(1)
    assert await joined.get_attribute("data-uid") == player_user["uid"]
    await context.close()


async def test_an_expired_id_token_is_refreshed_by_the_sdk_and_the_user_stays(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    context = await _context(browser, problems)
    page = await context.new_page()
    await _signed_in_host(page, web_url)
    user = await _stored_user(page, web_config, "host")
    assert user
    # The ID token's hour is over (as after a laptop slept): the next call must refresh it.
    user["stsTokenManager"]["expirationTime"] = 0
    key = f"firebase:authUser:{web_config['firebase_api_key']}:host"
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, json.dumps(user)])

    # A new page after the old one closed: a request the old page still had going out
    # during a reload would count as the reloaded page's, with the old token.
    await page.close()
    page = await context.new_page()
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    await page.goto(f"{web_url}/host.html")
    await _quizzes_listed(page)
    refreshes = [r for r in seen if r.url.startswith(f"{web_config['auth_emulator_url']}{REFRESH}")]
    assert len(refreshes) == 1
    assert not [r for r in seen if SIGN_UP in r.url]
    refreshed = await refreshes[0].response()
    assert refreshed is not None
    new_token = (await refreshed.json())["id_token"]
    api_calls = [r for r in seen if r.url.startswith(web_config["api_url"]) and r.method != "OPTIONS"]
    assert api_calls
    # Every call carries the token the refresh returned. (Compared with that, not with the
    # old one: the emulator's tokens are unsigned, so one issued in the same second as
    # the old is the same string.)
    assert {await call.header_value("authorization") for call in api_calls} == {f"Bearer {new_token}"}
    renewed = await _stored_user(page, web_config, "host")
    assert renewed and renewed["uid"] == user["uid"]
    assert renewed["stsTokenManager"]["expirationTime"] > 0
    await context.close()


async def test_a_user_whose_refresh_token_is_dead_becomes_a_new_user(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    """As after the emulator restarted: the stored user is unknown to Auth. The page signs
    up again instead of failing."""
    context = await _context(browser, problems)
    page = await context.new_page()
    await _signed_in_host(page, web_url)
    user = await _stored_user(page, web_config, "host")
    assert user
    user["stsTokenManager"].update(expirationTime=0, refreshToken="dead-refresh-token")
    key = f"firebase:authUser:{web_config['firebase_api_key']}:host"
    await page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, json.dumps(user)])

    await page.reload()
    await _quizzes_listed(page)
    renewed = await _stored_user(page, web_config, "host")
    assert renewed and renewed["uid"] != user["uid"]
    await context.close()


# -- App Check ---------------------------------------------------------------------------

SITE_KEY = "test-recaptcha-enterprise-site-key"
APP_ID = "1:1234567890:web:0123456789abcdef"
RECAPTCHA_TOKEN = "recaptcha-standin-token"
APP_CHECK_TOKEN = "appcheck-standin.eyJ0ZXN0IjoidHJ1ZSJ9.c2ln"
# Offline stand-in for Google's reCAPTCHA Enterprise script (www.google.com cannot be
# reached from the tests): the grecaptcha.enterprise calls App Check's provider makes.
RECAPTCHA_STANDIN = """
(() => {
  const widgets = [];
  window.grecaptcha = { enterprise: {
    ready(callback) { callback(); },
    render(container, params) { widgets.push(params); return widgets.length - 1; },
    execute(widgetId, { action }) {
      widgets[widgetId].callback();
      return Promise.resolve(action === "fire_app_check" ? "RECAPTCHA_TOKEN" : "wrong-action");
    },
  } };
})();
""".replace("RECAPTCHA_TOKEN", RECAPTCHA_TOKEN)


async def test_with_app_check_on_the_pages_send_its_token_to_the_api_and_the_gateway(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    """The pages as the gateway serves them with a site key (StaticFiles, CSP included),
    against the local stack; only Google's two endpoints are stand-ins: the reCAPTCHA
    Enterprise script and App Check's token exchange (content-firebaseappcheck), faked
    with page routes because Google cannot be reached offline."""
    cloud_config = {**web_config, "firebase_app_id": APP_ID, "app_check_site_key": SITE_KEY}
    served = StaticFiles(WEB_ROOT, cloud_config)
    context = await _context(browser, problems)
    # Pages fulfilled by Playwright have no address, so Chromium counts them as public and
    # asks before they call the loopback emulator and API; the gateway's own pages are on
    # loopback themselves and never ask. Granting it here only undoes that artifact.
    await context.grant_permissions(["local-network-access"], origin=web_url)
    exchanges: list[dict[str, Any]] = []

    async def serve_pages(route: Route) -> None:
        response = served.response(urlsplit(route.request.url).path)
        if response is None:
            await route.fallback()
            return
        headers = {name: value for name, value in response.headers.raw_items()}
        await route.fulfill(status=response.status_code, headers=headers, body=response.body)

    async def serve_recaptcha(route: Route) -> None:
        assert "grecaptcha" not in route.request.url
        await route.fulfill(content_type="text/javascript", body=RECAPTCHA_STANDIN)

    async def exchange(route: Route) -> None:
        cors = {"Access-Control-Allow-Origin": web_url, "Access-Control-Allow-Headers": "*"}
        if route.request.method == "OPTIONS":
            await route.fulfill(status=204, headers={**cors, "Access-Control-Allow-Methods": "POST"})
            return
        exchanges.append({"url": route.request.url, "body": route.request.post_data_json})
        token = {"token": APP_CHECK_TOKEN, "ttl": "3600s"}
        await route.fulfill(status=200, headers=cors, content_type="application/json", body=json.dumps(token))

    await context.route(re.compile(re.escape(web_url) + r"/(?!ws$).*"), serve_pages)
    await context.route("https://www.google.com/recaptcha/enterprise.js*", serve_recaptcha)
    await context.route("https://content-firebaseappcheck.googleapis.com/**", exchange)

    host = await context.new_page()
    handshakes = await _watch_websocket_handshakes(context, host)
    api_calls: list[Request] = []
    host.on("request", lambda r: api_calls.append(r) if r.url.startswith(web_config["api_url"]) else None)
    await _signed_in_host(host, web_url)
    await host.get_by_label("Choose a quiz").select_option("vocab-101")
    await host.get_by_role("button", name="Create session").click()
    await expect(host.locator("#join-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))

    assert exchanges, "App Check never exchanged a reCAPTCHA token"
    project = web_config["project_id"]
    assert exchanges[0]["url"].startswith(
        f"https://content-firebaseappcheck.googleapis.com/v1/projects/{project}/apps/{APP_ID}"
        ":exchangeRecaptchaEnterpriseToken"
    )
    assert exchanges[0]["body"] == {"recaptcha_enterprise_token": RECAPTCHA_TOKEN}
    sent = [
        (r.method, await r.header_value("x-firebase-appcheck")) for r in api_calls if r.method != "OPTIONS"
    ]
    assert {method for method, _ in sent} >= {"GET", "POST"}
    assert all(token == APP_CHECK_TOKEN for _, token in sent), sent
    await expect(host.locator("#connection")).to_be_empty()  # the socket is open
    assert handshakes, "no WebSocket handshake seen"
    protocols = [p.strip() for p in handshakes[-1]["Sec-WebSocket-Protocol"].split(",")]
    assert protocols[0] == "quiz.v1" and protocols[1].startswith("bearer.")
    assert protocols[2:] == [f"appcheck.{APP_CHECK_TOKEN}"]
    await context.close()


async def test_with_app_check_off_the_pages_load_no_recaptcha_and_send_no_app_check_token(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    assert not web_config.get("app_check_site_key")  # local runs: off
    context = await _context(browser, problems)
    page = await context.new_page()
    handshakes = await _watch_websocket_handshakes(context, page)
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    await _signed_in_host(page, web_url)
    await page.get_by_label("Choose a quiz").select_option("vocab-101")
    await page.get_by_role("button", name="Create session").click()
    await expect(page.locator("#join-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"))
    await expect(page.locator("#connection")).to_be_empty()
    assert not [r.url for r in seen if "recaptcha" in r.url or "firebaseappcheck" in r.url]
    assert not [r for r in seen if await r.header_value("x-firebase-appcheck")]
    protocols = [p.strip() for p in handshakes[-1]["Sec-WebSocket-Protocol"].split(",")]
    assert len(protocols) == 2 and protocols[0] == "quiz.v1" and protocols[1].startswith("bearer.")
    await context.close()


async def _watch_websocket_handshakes(context: BrowserContext, page: Page) -> list[dict[str, str]]:
    """The headers of each WebSocket handshake the page sends (Chromium's DevTools protocol:
    Playwright does not show a socket's request headers)."""
    handshakes: list[dict[str, str]] = []
    cdp = await context.new_cdp_session(page)
    cdp.on(
        "Network.webSocketWillSendHandshakeRequest",
        lambda event: handshakes.append(event["request"]["headers"]),
    )
    await cdp.send("Network.enable")
    return handshakes


async def test_a_busy_api_is_asked_again_after_its_retry_after(
    browser: Browser, web_url: str, web_config: dict[str, Any], problems: list[str]
) -> None:
    """The API's 503 says "busy: nothing was changed; try again" with a Retry-After: the
    page waits that long and asks again, instead of "Could not load quizzes"."""
    context = await _context(browser, problems)
    asked: list[float] = []

    async def busy_once(route: Route) -> None:
        if route.request.method != "GET":
            await route.fallback()  # the CORS preflight
            return
        asked.append(time.monotonic())
        if len(asked) > 1:
            await route.fallback()
            return
        headers = {
            "Access-Control-Allow-Origin": web_url,
            "Access-Control-Expose-Headers": "Content-Disposition, Retry-After",
            "Retry-After": "1",
        }
        busy = json.dumps({"error": {"code": "INTERNAL", "message": "Busy: nothing was changed; try again"}})
        await route.fulfill(status=503, headers=headers, content_type="application/json", body=busy)

    await context.route(f"{web_config['api_url']}/api/v1/quizzes*", busy_once)
    host = await context.new_page()
    await _signed_in_host(host, web_url)
    assert len(asked) == 2, asked
    assert asked[1] - asked[0] >= 0.9  # after the Retry-After, not at once
    await expect(host.locator("#alert")).to_be_hidden()
    await context.close()
