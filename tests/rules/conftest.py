"""Fixtures for the security-rules tests: one Firestore emulator for the package, loaded
with the real firestore.rules, and a freshly seeded game per test.

The coverage check reads what every other rules test made the emulator evaluate, so it
is moved to run right after them; it skips itself when only part of the package runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.processes import free_port
from tests.rules.harness import ROOT, Firestore, Game, running_emulator

RULES_DIR = Path(__file__).resolve().parent
COVERAGE_TEST = "test_rules_leave_no_expression_unevaluated"
DESELECTED_RULES_TESTS: list[str] = []


@pytest.fixture(scope="package")
def firestore() -> Iterator[Firestore]:
    with (
        running_emulator(free_port(), ROOT / ".devstack" / "rules") as address,
        httpx.Client(timeout=30) as client,
    ):
        yield Firestore(client, address)


@pytest.fixture
def game(firestore: Firestore) -> Game:
    game = Game()
    firestore.put_all(game.documents())
    return game


def in_rules_package(item: pytest.Item) -> bool:
    return RULES_DIR in item.path.parents


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED_RULES_TESTS.extend(item.nodeid for item in items if in_rules_package(item))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    coverage = [item for item in items if item.name == COVERAGE_TEST and in_rules_package(item)]
    if not coverage:
        return
    items.remove(coverage[0])
    last = max((i for i, item in enumerate(items) if in_rules_package(item)), default=len(items) - 1)
    items.insert(last + 1, coverage[0])
