"""vocabquiz/faults.py: QUIZ_FAULTS fails loudly on a bad value, does nothing when unset,
and never loads in production."""

from __future__ import annotations

import pytest

from vocabquiz import faults
from vocabquiz.service.config import load_config
from vocabquiz.service.faults import InjectedFault, fail_after_commit


def test_fault_config_unset_or_empty_injects_nothing() -> None:
    assert faults.load("", "local") is None
    assert faults.load("  ", "local") is None
    dice = faults.Dice(None)
    for _ in range(100):
        fail_after_commit(dice, "on_command")
        assert not dice.roll("lost_commit_reply") and not dice.roll("lost_publish_reply")
    assert dice.injected == {}
    assert dice.clock_ms(lambda: 1000)() == 1000


def test_fault_config_parses_every_knob() -> None:
    assert faults.load("fail_after_commit=0.2,seed=7", "local") == faults.Faults(0.2, seed=7)
    assert faults.parse(" fail_after_commit = 1 , ") == faults.Faults(1.0)
    assert faults.parse(
        "lost_commit_reply=0.05,lost_publish_reply=0.1,clock_skew_ms=-250,seed=3"
    ) == faults.Faults(lost_commit_reply=0.05, lost_publish_reply=0.1, clock_skew_ms=-250, seed=3)


def test_fault_clock_runs_as_far_off_as_configured() -> None:
    dice = faults.Dice(faults.parse("clock_skew_ms=-250"))
    assert dice.clock_ms(lambda: 10_000)() == 9_750


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
        "lost_commit_reply=2",
        "lost_publish_reply=x",
        "clock_skew_ms=1.5",
        "clock_skew_ms=10001",
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
        dice = faults.Dice(faults.Faults(0.25, seed=7))
        hits = []
        for _ in range(400):
            try:
                fail_after_commit(dice, "on_command")
                hits.append(False)
            except InjectedFault as fault:
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
    assert faults.load(config.faults, config.environment) == faults.Faults(seed=3)


def test_lost_commit_replies_are_refused_off_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replies are lost on the emulator's channel; a real project would lose none."""
    from google.auth.credentials import AnonymousCredentials

    from vocabquiz.adapters.rpcs import CountingClient

    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
    dice = faults.Dice(faults.Faults(lost_commit_reply=0.5))
    with pytest.raises(faults.FaultConfigError, match="lost_commit_reply needs the Firestore emulator"):
        CountingClient(project="p", credentials=anonymous, lost_replies=dice)
    CountingClient(project="p", credentials=anonymous, lost_replies=faults.Dice(None))
