"""`make run` on a machine that lacks a prerequisite says what to install."""

from __future__ import annotations

import pytest

from devstack import endpoints, prerequisites
from devstack.processes import StartError


def test_missing_java_and_gcloud_are_named_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prerequisites.shutil, "which", lambda name: None)
    with pytest.raises(StartError) as refused:
        prerequisites.check_prerequisites(endpoints.ROOT)
    message = str(refused.value)
    assert "Java is missing: install a JRE 17+" in message
    assert "Google Cloud CLI is missing" in message
    assert "Traceback" not in message


def test_emulator_json_names_every_service_the_stack_starts() -> None:
    loaded = endpoints.load_endpoints()
    assert set(loaded) == {*endpoints.SERVICES, *endpoints.FIREBASE_ONLY}
    assert len({e.port for e in loaded.values()}) == len(loaded)
