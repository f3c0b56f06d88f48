"""Browsers can sign in: the Referer the served pages' policy makes a browser send to the
sign-in API is one the browser API key accepts. The emulator ignores key restrictions, so
only this holds the two together (firebase-js-sdk issue 5657: a page served with
`Referrer-Policy: no-referrer` sends none, and the restricted key refuses it with 403)."""

from __future__ import annotations

import fnmatch
import re
from urllib.parse import urlsplit

import pytest

from gateway.static import WEB_ROOT, StaticFiles
from tests.infra.tfmodel import TERRAFORM

IDENTITY = TERRAFORM / "modules" / "identity" / "main.tf"
WEB_ORIGIN = "https://quiz.example.com"
SIGN_UP = "https://identitytoolkit.googleapis.com/v1/accounts:signUp?key=K"


def referer_sent(policy: str, page_url: str, request_url: str) -> str | None:
    """The Referer a browser sends from an https page to another https origin under each
    Referrer-Policy value (W3C Referrer Policy, "determine request's referrer")."""
    page, target = urlsplit(page_url), urlsplit(request_url)
    origin = f"{page.scheme}://{page.netloc}/"
    same_origin = (page.scheme, page.netloc) == (target.scheme, target.netloc)
    full = page_url.split("#", 1)[0]
    return {
        "no-referrer": None,
        "same-origin": full if same_origin else None,
        "origin": origin,
        "strict-origin": origin,
        "origin-when-cross-origin": full if same_origin else origin,
        "strict-origin-when-cross-origin": full if same_origin else origin,
        "no-referrer-when-downgrade": full,
        "unsafe-url": full,
    }[policy]


def _allowed_referrers(origin: str) -> list[str]:
    """The API key's browser restriction for our web origin, as terraform builds it."""
    text = IDENTITY.read_text()
    match = re.search(r'allowed_referrers\s*=\s*\[for origin in var\.web_origins : "([^"]+)"\]', text)
    assert match, "the web API key no longer restricts referrers the way this test reads"
    return [match.group(1).replace("${origin}", origin)]


@pytest.mark.parametrize("page", ["/", "/index.html", "/host.html"])
def test_the_served_pages_referrer_policy_sends_what_the_api_key_accepts(page: str) -> None:
    response = StaticFiles(WEB_ROOT, {}).response(page)
    assert response is not None
    policy = response.headers["Referrer-Policy"]
    referer = referer_sent(policy, f"{WEB_ORIGIN}{page}", SIGN_UP)
    assert referer is not None, f"{policy} sends no Referer: the restricted key refuses the sign-in"
    assert any(fnmatch.fnmatchcase(referer, allowed) for allowed in _allowed_referrers(WEB_ORIGIN)), referer
    assert referer == f"{WEB_ORIGIN}/", "only the origin leaves the site, never a page's path"


def test_no_referrer_would_lock_browsers_out() -> None:
    assert referer_sent("no-referrer", f"{WEB_ORIGIN}/host.html", SIGN_UP) is None
