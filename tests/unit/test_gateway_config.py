"""Gateway configuration: defaults for every limit, and no production start that would
let firebase-admin skip token signatures."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_config
from vocabquiz.production import EmulatorInProduction, refuse_emulators


def test_local_start_gets_a_sane_default_for_every_limit() -> None:
    config = load_config({"GOOGLE_CLOUD_PROJECT": "p"})
    assert config.max_frame_bytes == 10 * 1024
    assert (config.rate_per_s, config.rate_burst, config.max_connections_per_user) == (20, 40, 5)
    assert config.allowed_origins == frozenset()


def test_production_start_with_an_emulator_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        load_config(
            {"GOOGLE_CLOUD_PROJECT": "p", "QUIZ_ENV": "production", "FIREBASE_AUTH_EMULATOR_HOST": "x:1"}
        )


def test_missing_project_is_named() -> None:
    with pytest.raises(ConfigError, match="GOOGLE_CLOUD_PROJECT"):
        load_config({})


def test_origins_are_an_exact_list() -> None:
    config = load_config(
        {"GOOGLE_CLOUD_PROJECT": "p", "ALLOWED_ORIGINS": "https://a.example, https://b.example"}
    )
    assert config.allowed_origins == {"https://a.example", "https://b.example"}


@pytest.mark.parametrize("name", ["DRAIN_TIMEOUT_MS", "LEADERBOARD_GAP_MS", "COMMAND_BATCH_GAP_MS"])
@pytest.mark.parametrize("raw", ["abc", "-1", "nan", "inf", "3s"])
def test_a_duration_that_is_not_a_number_of_milliseconds_is_refused_naming_it(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config({"GOOGLE_CLOUD_PROJECT": "p", name: raw})


def test_a_ready_check_interval_of_zero_is_refused_and_an_empty_duration_keeps_its_default() -> None:
    with pytest.raises(ConfigError, match="READY_CHECK_INTERVAL_MS"):
        load_config({"GOOGLE_CLOUD_PROJECT": "p", "READY_CHECK_INTERVAL_MS": "0"})
    config = load_config({"GOOGLE_CLOUD_PROJECT": "p", "DRAIN_TIMEOUT_MS": "", "COMMAND_BATCH_GAP_MS": "0"})
    assert (config.drain_timeout_s, config.command_batch_gap_s) == (3.0, 0.0)


def test_production_start_is_refused_by_the_functions_rule_naming_every_emulator_variable() -> None:
    """One rule for the gateway and the functions (vocabquiz/production.py)."""
    env = {
        "GOOGLE_CLOUD_PROJECT": "p",
        "QUIZ_ENV": "production",
        "PUBSUB_EMULATOR_HOST": "x:1",
        "FIREBASE_AUTH_EMULATOR_HOST": "x:2",
    }
    with pytest.raises(ConfigError) as refused:
        load_config(env)
    with pytest.raises(EmulatorInProduction) as functions_rule:
        refuse_emulators(env, "production")
    assert str(refused.value) == str(functions_rule.value)
    assert "FIREBASE_AUTH_EMULATOR_HOST, PUBSUB_EMULATOR_HOST" in str(refused.value)
    assert load_config(env | {"QUIZ_ENV": "local"}).production is False
