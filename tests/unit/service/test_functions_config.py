"""The functions' configuration refuses a production start pointed at an emulator, as the
gateway's does, and reads App Check's switch strictly."""

from __future__ import annotations

import sys

import pytest

from devstack.stack import functions_main
from tests.unit.service.conftest import ENV
from vocabquiz.service.config import ConfigError, load_config

PRODUCTION = ENV | {"QUIZ_ENV": "production"}


@pytest.mark.parametrize(
    "variable", ["FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"]
)
def test_production_start_with_an_emulator_variable_is_refused_naming_it(variable: str) -> None:
    with pytest.raises(ConfigError, match=f"Refusing a production start with {variable} set"):
        load_config(PRODUCTION | {variable: "localhost:8080"})


def test_production_start_names_every_emulator_variable_set() -> None:
    env = PRODUCTION | {"FIRESTORE_EMULATOR_HOST": "x:1", "CLOUD_TASKS_EMULATOR_HOST": "x:2"}
    with pytest.raises(ConfigError, match="CLOUD_TASKS_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST set"):
        load_config(env)


def test_local_start_with_emulators_loads() -> None:
    config = load_config(ENV | {"FIRESTORE_EMULATOR_HOST": "x:1", "CLOUD_TASKS_EMULATOR_HOST": "x:2"})
    assert config.tasks_emulator_host == "x:2"


def test_production_start_with_no_emulator_loads() -> None:
    assert load_config(PRODUCTION).environment == "production"


def test_functions_refuse_to_load_in_production_with_an_emulator_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """functions/main.py reads its config as it loads: the instance fails at start."""
    for name, value in (PRODUCTION | {"FIRESTORE_EMULATOR_HOST": "localhost:8080"}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, "main", sys.modules.get("main"))  # the failed load is undone
    with pytest.raises(ConfigError, match="FIRESTORE_EMULATOR_HOST"):
        functions_main()


def test_app_check_is_off_unless_enforced() -> None:
    assert load_config(ENV).app_check_enforced is False
    assert load_config(ENV | {"APP_CHECK_ENFORCED": "false"}).app_check_enforced is False
    assert load_config(ENV | {"APP_CHECK_ENFORCED": "true"}).app_check_enforced is True
    assert load_config(ENV | {"APP_CHECK_ENFORCED": "TRUE"}).app_check_enforced is True


@pytest.mark.parametrize("text", ["yes", "1", "enforced"])
def test_app_check_switch_other_than_true_or_false_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="APP_CHECK_ENFORCED must be 'true' or 'false'"):
        load_config(ENV | {"APP_CHECK_ENFORCED": text})
