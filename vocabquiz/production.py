"""What a production start refuses, one rule for the functions' config and the gateway's:
no `*_EMULATOR_HOST` variable, since each points a client library at a local emulator and
firebase-admin checks no ID-token signature while FIREBASE_AUTH_EMULATOR_HOST is set."""

from __future__ import annotations

from collections.abc import Mapping

# QUIZ_ENV's value in the cloud (terraform sets it); anything else is a laptop or a test stack.
PRODUCTION = "production"
EMULATOR_SUFFIX = "_EMULATOR_HOST"


class EmulatorInProduction(RuntimeError):
    """A production start with an emulator variable set."""


def emulator_variables(env: Mapping[str, str]) -> list[str]:
    """The `*_EMULATOR_HOST` names set in `env`, sorted (an empty value counts: it is a mistake too)."""
    return sorted(key for key in env if key.endswith(EMULATOR_SUFFIX))


def refuse_emulators(env: Mapping[str, str], environment: str) -> None:
    """Raise EmulatorInProduction when `environment` is production and `env` names an emulator."""
    emulated = emulator_variables(env)
    if environment == PRODUCTION and emulated:
        raise EmulatorInProduction(
            f"Refusing a production start with {', '.join(emulated)} set: an emulator variable points "
            "a client at a local emulator, and with FIREBASE_AUTH_EMULATOR_HOST firebase-admin "
            "checks no token signature"
        )
