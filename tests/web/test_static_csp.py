"""The pages' Content-Security-Policy follows the config they are served with: calls to
the Auth emulator locally, to Google's Auth endpoints in the cloud, and reCAPTCHA
Enterprise (App Check) only when a site key is set. The browser tests run the pages under
it; these say what it admits."""

from __future__ import annotations

import pytest

from gateway.static import WEB_ROOT, StaticFiles

API = "https://api.quiz.example.com"
LOCAL = {"api_url": "http://127.0.0.1:8081", "auth_emulator_url": "http://127.0.0.1:9099"}
CLOUD = {"api_url": f"{API}/", "auth_emulator_url": "", "app_check_site_key": ""}
CLOUD_APP_CHECK = {**CLOUD, "firebase_app_id": "1:2:web:3", "app_check_site_key": "site-key"}


def policy(config: dict[str, object], page: str = "/host.html") -> dict[str, list[str]]:
    response = StaticFiles(WEB_ROOT, config).response(page)
    assert response is not None
    directives = [d.split() for d in response.headers["Content-Security-Policy"].split(";") if d.strip()]
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("page", ["/", "/index.html", "/host.html", "/js/auth.js", "/vendor/firebase.js"])
def test_every_file_is_served_with_a_csp_and_the_origin_only_referrer_policy(page: str) -> None:
    response = StaticFiles(WEB_ROOT, CLOUD).response(page)
    assert response is not None
    assert response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_local_pages_may_call_the_auth_emulator_and_the_api_and_nothing_of_google() -> None:
    csp = policy(LOCAL)
    assert csp["connect-src"] == ["'self'", "http://127.0.0.1:8081", "http://127.0.0.1:9099"]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-src"] == ["'none'"]
    assert not [s for sources in csp.values() for s in sources if "google" in s]


def test_cloud_pages_may_call_firebase_auth_and_the_api_and_load_no_recaptcha_without_a_site_key() -> None:
    csp = policy(CLOUD)
    assert csp["connect-src"] == [
        "'self'",
        API,
        "https://identitytoolkit.googleapis.com",
        "https://securetoken.googleapis.com",
    ]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-src"] == ["'none'"]


def test_with_a_site_key_the_pages_may_run_recaptcha_enterprise_and_exchange_app_check_tokens() -> None:
    csp = policy(CLOUD_APP_CHECK)
    assert "https://content-firebaseappcheck.googleapis.com" in csp["connect-src"]
    # Google's reCAPTCHA FAQ: its script from these paths, its frames from these.
    assert csp["script-src"] == [
        "'self'",
        "https://www.google.com/recaptcha/",
        "https://www.gstatic.com/recaptcha/",
    ]
    assert csp["frame-src"] == [
        "https://www.google.com/recaptcha/",
        "https://recaptcha.google.com/recaptcha/",
    ]


@pytest.mark.parametrize("config", [LOCAL, CLOUD, CLOUD_APP_CHECK])
def test_no_config_allows_inline_script_eval_plugins_or_framing(config: dict[str, object]) -> None:
    csp = policy(config, "/")
    assert not [
        s for sources in csp.values() for s in sources if s in ("'unsafe-inline'", "'unsafe-eval'", "*")
    ]
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
