"""App Check as terraform deploys it, held to the code: one root switch enforces it on the
host API and the gateway alike (APP_CHECK_ENFORCED, read by both configs); what App Check
needs (Firebase, the web app, a reCAPTCHA Enterprise score key for the web origins, the
app's App Check config) exists only when asked for, the browser key may call the App Check
endpoint the bundled SDK calls, and nobody is handed the site key before App Check accepts
it. And the production marker terraform sets makes the functions refuse any emulator."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra import tfgraph, tfmodel
from tests.infra.tfmodel import ROOT, TERRAFORM, Unresolved
from vocabquiz.production import EMULATOR_SUFFIX, PRODUCTION

IDENTITY = TERRAFORM / "modules" / "identity"
WEB_BUNDLE = ROOT / "web" / "vendor" / "firebase.js"
# What App Check with reCAPTCHA Enterprise is made of, in the identity module.
APP_CHECK_RESOURCES = {
    "google_firebase_project.main",
    "google_firebase_web_app.main",
    "time_sleep.web_app_known_to_app_check",
    "google_recaptcha_enterprise_key.web",
    "google_firebase_app_check_recaptcha_enterprise_config.web",
}
APP_CHECK_CONFIG = "module.identity.google_firebase_app_check_recaptcha_enterprise_config.web"


def _root_with(**variables: Any) -> tfmodel.Scope:
    """The root module as `terraform apply -var` would see it."""
    return tfmodel.Scope(tfmodel.load(TERRAFORM), arguments=variables, caller=tfmodel.root())


def _env(module: str, **variables: Any) -> dict[str, str]:
    """A module's workload env (local.env) as a process sees it: nulls unset, placeholders
    for what is known only after apply."""
    scope = tfmodel.child(_root_with(**variables), module)
    env = tfmodel.evaluate(scope.module.locals["env"], scope)
    return {
        name: f"https://unresolved.invalid/{name}" if isinstance(value, Unresolved) else str(value)
        for name, value in env.items()
        if value is not None
    }


# -- the switch ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["app_check_enforced", "app_check_enabled"])
def test_app_check_variables_are_documented_switches_off_by_default(name: str) -> None:
    spec = tfmodel.load(TERRAFORM).variables[name]
    assert spec["type"] == "bool" and spec["default"] is False
    for words in ("App Check", "reCAPTCHA Enterprise", "docs/deploy.md"):
        assert words in spec["description"], f"{name}'s description does not mention {words}"


@pytest.mark.parametrize("enforced", [False, True])
def test_the_functions_enforce_app_check_exactly_when_the_root_variable_says(enforced: bool) -> None:
    from vocabquiz.service.config import load_config

    env = _env("functions", app_check_enforced=enforced)
    assert env["APP_CHECK_ENFORCED"] == str(enforced).lower()
    assert load_config(env).app_check_enforced is enforced


@pytest.mark.parametrize("enforced", [False, True])
def test_the_gateway_gets_the_same_switch_as_the_functions(enforced: bool) -> None:
    call = tfmodel.load(TERRAFORM).calls
    assert call["gateway"]["app_check_enforced"] == call["functions"]["app_check_enforced"]
    assert call["gateway"]["app_check_enforced"] == "${var.app_check_enforced}"
    assert _env("gateway", app_check_enforced=enforced)["APP_CHECK_ENFORCED"] == str(enforced).lower()


def test_the_gateway_serves_the_web_app_id_and_site_key_identity_creates() -> None:
    gateway = tfmodel.load(TERRAFORM).calls["gateway"]
    assert gateway["firebase_app_id"] == "${module.identity.firebase_app_id}"
    assert gateway["app_check_site_key"] == "${module.identity.app_check_site_key}"
    assert "app_check_site_key" in json.dumps(tfmodel.load(TERRAFORM / "modules" / "gateway").locals["env"])


def test_enforcing_app_check_creates_what_app_check_needs() -> None:
    root = tfmodel.load(TERRAFORM)
    assert root.locals["app_check"] == "${var.app_check_enabled || var.app_check_enforced}"
    assert root.calls["identity"]["app_check"] == "${local.app_check}"


# -- what App Check is made of -------------------------------------------------------------


def test_app_check_resources_exist_only_when_asked_for() -> None:
    identity = tfmodel.load(IDENTITY)
    counted = {
        f"{kind}.{name}": body.get("count")
        for (kind, name), body in identity.resources.items()
        if f"{kind}.{name}" in APP_CHECK_RESOURCES
    }
    assert set(counted) == APP_CHECK_RESOURCES
    assert set(counted.values()) == {"${var.app_check ? 1 : 0}"}, counted


def test_app_check_apis_are_enabled_before_anything_uses_them() -> None:
    root = tfmodel.load(TERRAFORM)
    services = root.locals["app_check_services"]
    assert {
        "firebase.googleapis.com",
        "firebaseappcheck.googleapis.com",
        "recaptchaenterprise.googleapis.com",
    } <= set(services)
    assert "local.app_check ? local.app_check_services" in root.calls["apis"]["services"]
    assert "${module.apis}" in root.calls["identity"]["depends_on"]


def test_the_recaptcha_key_is_a_score_key_for_exactly_the_web_origins_hosts() -> None:
    identity = tfmodel.load(IDENTITY)
    (key,) = identity.resources_of("google_recaptcha_enterprise_key").values()
    (settings,) = key["web_settings"]
    assert settings["integration_type"] == "SCORE"  # App Check takes score-based keys only
    assert settings["allow_all_domains"] is False
    assert settings["allowed_domains"] == "${local.web_domains}"
    # The same hosts the root derives from the web origins (which the API key's referrers use).
    ours = identity.locals["web_domains"].replace("var.web_origins", "local.web_origins")
    assert ours == tfmodel.load(TERRAFORM).locals["web_domains"]
    assert tfmodel.load(TERRAFORM).calls["identity"]["web_origins"] == "${local.web_origins}"


def test_app_check_config_uses_the_recaptcha_key_and_a_token_life_firebase_accepts() -> None:
    identity = tfmodel.load(IDENTITY)
    (config,) = identity.resources_of("google_firebase_app_check_recaptcha_enterprise_config").values()
    assert config["site_key"] == "${google_recaptcha_enterprise_key.web[0].name}"
    assert config["token_ttl"] == "${var.app_check_token_ttl_s}s"
    ttl = identity.variables["app_check_token_ttl_s"]
    assert 1800 <= ttl["default"] <= 604800  # Firebase: 30 minutes to 7 days


def test_the_web_app_signs_in_with_the_restricted_browser_key() -> None:
    """Without api_key_id Firebase provisions a key of its own, with no restriction."""
    (app,) = tfmodel.load(IDENTITY).resources_of("google_firebase_web_app").values()
    assert app["api_key_id"] == "${google_apikeys_key.web.uid}"


def _bundle_services() -> set[str]:
    """The Google APIs the bundled Firebase SDK calls with the browser key (its App Check
    exchange goes to content-firebaseappcheck, a host of firebaseappcheck.googleapis.com)."""
    hosts = set(re.findall(r"[a-z0-9.-]+\.googleapis\.com", WEB_BUNDLE.read_text()))
    return {host.removeprefix("content-") for host in hosts}


def test_the_browser_key_may_call_every_api_the_bundled_sdk_calls_when_app_check_is_on() -> None:
    (key,) = tfmodel.load(IDENTITY).resources_of("google_apikeys_key").values()
    (restrictions,) = key["restrictions"]
    always = {target["service"] for target in restrictions["api_targets"]}
    (dynamic,) = [block["api_targets"] for block in restrictions["dynamic"]]
    with_app_check = set(re.findall(r"[\"']([a-z.]+\.googleapis\.com)[\"']", dynamic["for_each"]))
    assert dynamic["for_each"].startswith("${var.app_check ? [")
    assert "firebaseappcheck.googleapis.com" in _bundle_services(), "the bundle no longer holds App Check"
    missing = _bundle_services() - always - with_app_check
    assert not missing, f"the restricted browser key refuses calls the web client makes: {sorted(missing)}"


# -- order on the first apply --------------------------------------------------------------


def test_app_check_is_configured_only_after_it_can_know_the_web_app() -> None:
    waits = tfgraph.waits_for(APP_CHECK_CONFIG)
    assert "module.identity.time_sleep.web_app_known_to_app_check" in waits
    assert "module.identity.google_firebase_web_app.main" in waits
    assert "module.identity.google_recaptcha_enterprise_key.web" in waits
    assert any(node.startswith("module.apis.google_project_service") for node in waits)


def test_no_browser_is_handed_the_site_key_before_app_check_accepts_it() -> None:
    assert APP_CHECK_CONFIG in tfgraph.waits_for("module.gateway.google_cloud_run_v2_service.main")
    output = json.dumps(tfmodel.load(IDENTITY).outputs["app_check_site_key"]["value"])
    assert "google_firebase_app_check_recaptcha_enterprise_config.web" in output


# -- production ----------------------------------------------------------------------------


def test_terraform_starts_the_functions_as_production_so_an_emulator_variable_is_refused() -> None:
    from vocabquiz.service.config import ConfigError, load_config

    env = _env("functions")
    assert env["QUIZ_ENV"] == PRODUCTION
    assert not [name for name in env if name.endswith(EMULATOR_SUFFIX)]
    with pytest.raises(ConfigError, match="FIRESTORE_EMULATOR_HOST"):
        load_config(env | {"FIRESTORE_EMULATOR_HOST": "localhost:8080"})


def test_deploy_doc_says_how_to_turn_app_check_on_with_the_variables_and_addresses_terraform_has() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    assert "## App Check" in doc, "the variables' descriptions point at docs/deploy.md, App Check"
    section = doc.split("## App Check", 1)[1].split("\n## ", 1)[0]
    variables = tfmodel.load(TERRAFORM).variables
    for name in ("app_check_enabled", "app_check_enforced"):
        assert f"{name} = true" in section and name in variables
    assert "app_check_token_ttl_s" in tfmodel.load(IDENTITY).variables
    imports = re.findall(r"'(module\.identity\.[\w.]+)\[0\]'", section)
    assert imports, "the section no longer says how to import a project that already has Firebase"
    for address in imports:
        kind, name = address.removeprefix("module.identity.").split(".")
        assert f"{kind}.{name}" in APP_CHECK_RESOURCES, (
            f"docs/deploy.md imports {address}, which is not there"
        )
