"""The settings this part of the gateway reads: App Check's, fail loudly when they cannot
work; the metrics port, served in production by default and off on a laptop."""

from __future__ import annotations

import pytest

from gateway.config import DEFAULT_METRICS_PORT, ConfigError, load_config

BASE = {"GOOGLE_CLOUD_PROJECT": "p"}
APP = {"FIREBASE_APP_ID": "1:1:web:1", "APP_CHECK_SITE_KEY": "key"}


def test_app_check_is_off_and_unnamed_by_default() -> None:
    config = load_config(BASE)
    assert (config.app_check_enforced, config.firebase_app_id, config.app_check_site_key) == (False, "", "")


def test_app_check_enforced_reads_the_app_and_its_site_key() -> None:
    config = load_config(BASE | APP | {"APP_CHECK_ENFORCED": "true"})
    assert (config.app_check_enforced, config.firebase_app_id, config.app_check_site_key) == (
        True,
        "1:1:web:1",
        "key",
    )


@pytest.mark.parametrize("value", ["yes", "1", "True", "on"])
def test_app_check_enforced_other_than_true_or_false_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="APP_CHECK_ENFORCED"):
        load_config(BASE | APP | {"APP_CHECK_ENFORCED": value})


@pytest.mark.parametrize("missing", ["FIREBASE_APP_ID", "APP_CHECK_SITE_KEY"])
def test_app_check_enforced_without_what_the_page_needs_is_refused(missing: str) -> None:
    env = BASE | {k: v for k, v in APP.items() if k != missing} | {"APP_CHECK_ENFORCED": "true"}
    with pytest.raises(ConfigError, match=missing):
        load_config(env)


def test_metrics_port_defaults_to_the_sidecars_in_production_and_off_locally() -> None:
    assert load_config(BASE | {"QUIZ_ENV": "production"}).metrics_port == DEFAULT_METRICS_PORT
    assert load_config(BASE).metrics_port is None
    assert load_config(BASE | {"METRICS_PORT": "0"}).metrics_port == 0
    assert load_config(BASE | {"METRICS_PORT": "9100"}).metrics_port == 9100


@pytest.mark.parametrize("value", ["-1", "abc", "70000"])
def test_metrics_port_that_is_not_a_port_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="METRICS_PORT"):
        load_config(BASE | {"METRICS_PORT": value})


def test_readiness_check_interval_defaults_to_five_seconds() -> None:
    assert load_config(BASE).ready_check_interval_s == 5.0
    assert load_config(BASE | {"READY_CHECK_INTERVAL_MS": "250"}).ready_check_interval_s == 0.25
