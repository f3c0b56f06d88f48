"""vocabquiz/service/faults.py: QUIZ_FAULTS fails loudly on a bad value, does nothing when unset,
and never loads in production."""

from __future__ import annotations

import pytest

from vocabquiz.service import faults
from vocabquiz.service.config import load_config


def test_fault_config_unset_or_empty_injects_nothing() -> None:
    assert faults.load("", "local") is None
    assert faults.load("  ", "local") is None
    injector = faults.Injector(None)
    for _ in range(100):
        injector.after_commit("on_command")
    assert injector.injected == 0


def test_fault_config_parses_probability_and_seed() -> None:
    assert faults.load("fail_after_commit=0.2,seed=7", "local") == faults.Faults(0.2, 7)
    assert faults.parse(" fail_after_commit = 1 , ") == faults.Faults(1.0, None)


@pytest.mark.parametrize(
    "text",
    [
        "fail_after_commit",
        "fail_after_commit=",
        "=0.2",
        "fail_after_commit=lots",
        "fail_after_commit=1.5",
        "fail_after_commit=-0.1",
        "fail_after_commit=nan",
        "seed=x",
        "fail_after_commit=0.1,fail_after_commit=0.2",
        "fail_before_commit=0.2",
    ],
)
def test_fault_config_refuses_a_bad_value_naming_it(text: str) -> None:
    with pytest.raises(faults.FaultConfigError, match="QUIZ_FAULTS"):
        faults.load(text, "local")


def test_fault_config_refuses_to_load_in_production() -> None:
    with pytest.raises(faults.FaultConfigError, match="production"):
        faults.load("fail_after_commit=0.2", "production")
    assert faults.load("", "production") is None


def test_fault_injector_with_a_seed_fails_the_same_share_every_run() -> None:
    def run() -> list[bool]:
        injector = faults.Injector(faults.Faults(0.25, seed=7))
        hits = []
        for _ in range(400):
            try:
                injector.after_commit("on_command")
                hits.append(False)
            except faults.InjectedFault as fault:
                assert fault.code == 500
                hits.append(True)
        return hits

    first = run()
    assert first == run()
    assert 60 < sum(first) < 140


def test_fault_config_comes_from_the_functions_config() -> None:
    config = load_config(
        {"GOOGLE_CLOUD_PROJECT": "p", "FLUSH_URL": "f", "TIMER_URL": "t", "QUIZ_FAULTS": " seed=3 "}
    )
    assert (config.faults, config.environment) == ("seed=3", "local")
    assert faults.load(config.faults, config.environment) == faults.Faults(0.0, 3)
