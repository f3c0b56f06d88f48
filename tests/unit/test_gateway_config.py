"""Gateway configuration: defaults for every limit, and no production start that would
let firebase-admin skip token signatures."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_config


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
