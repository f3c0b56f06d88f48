"""Fixtures shared by the suites. The local stack starts once per test run, on free
ports, and every test makes its own session and users, so tests never share data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from bots.client import Host, Player, sign_up_anonymously

REVEAL_PAUSE_MS = 1000


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from devstack.stack import running_stack

    # A short pause between reveal and the next question keeps timer-driven tests quick.
    with running_stack(extra_env={"REVEAL_PAUSE_MS": str(REVEAL_PAUSE_MS)}) as running:
        yield running


@pytest.fixture
def save_quiz(stack: object) -> Callable[[dict[str, Any]], str]:
    """Store a quiz (quiz-file dict, id made unique) the way `make run` seeds them."""
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID
    from vocabquiz.adapters.store import Store
    from vocabquiz.domain.quizfile import quiz_from_dict

    store = Store(firestore.Client(project=PROJECT_ID))

    def save(data: dict[str, Any]) -> str:
        quiz = quiz_from_dict({**data, "id": f"{data['id']}-{uuid.uuid4().hex[:8]}"})
        store.save_quiz(quiz)
        return quiz.id

    return save


@pytest.fixture
def urls(stack: object) -> dict[str, str]:
    e = stack.endpoints  # type: ignore[attr-defined]
    return {
        "api": e["sessions_api"].url,
        "ws": f"ws://{e['gateway'].address}/ws",
        "auth": e["auth"].url,
        "origin": f"http://127.0.0.1:{e['gateway'].port}",
    }


@pytest.fixture
async def host(urls: dict[str, str]) -> Host:
    _, token = await sign_up_anonymously(urls["auth"])
    return Host(urls["api"], token)


@pytest.fixture
async def players(urls: dict[str, str]) -> AsyncIterator[list[Player]]:
    """A factory list: call `await add_player(players, urls)` to get connected players."""
    made: list[Player] = []
    yield made
    for player in made:
        await player.close()


async def add_player(made: list[Player], urls: dict[str, str]) -> Player:
    uid, token = await sign_up_anonymously(urls["auth"])
    player = Player(urls["ws"], token, uid, origin=urls["origin"])
    await player.connect()
    made.append(player)
    return player


def pytest_report_header() -> str:
    return f"local stack: emulators on free ports (CI={os.environ.get('CI', 'false')})"
