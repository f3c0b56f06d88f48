"""Poison messages: a command that can never succeed is acknowledged (2xx) and logged once,
not redelivered for ever, and the commands around it keep flowing.

The first test publishes poison straight to quiz-commands, between real players' answers,
through the running stack. The others call on_command in-process with poison that once
crashed it (500 -> Pub/Sub redelivers every second, for ever); through the stack a
regression would leave that loop running for the rest of the test run."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

from bench.faults import count_in_logs
from bots.client import Host, Player
from devstack.stack import COMMANDS_TOPIC, PROJECT_ID, functions_main
from tests.conftest import add_player
from tests.faults.games import open_question, right_answer
from vocabquiz.protocol import now_ms

pytestmark = pytest.mark.stack


def _frame(frame_type: str, payload: Any, message_id: str | None = None) -> bytes:
    return json.dumps(
        {"type": frame_type, "payload": payload, "message_id": message_id or uuid.uuid4().hex}
    ).encode()


def _log_lines(stack: Any) -> list[dict[str, Any]]:
    lines = []
    for path in sorted(stack.log_dir.glob("on_command*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    continue
    return lines


async def test_poison_commands_are_acknowledged_logged_once_and_the_rest_keep_flowing(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    alice, bob = await add_player(players, urls), await add_player(players, urls)
    for player, name in ((alice, "Alice"), (bob, "Bob")):
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await player.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    # The first of the session's own order, and its right answer as the store holds the quiz.
    first = (await alice.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"]
    right = right_answer(session_id, first)
    tracebacks_before = count_in_logs(stack.log_dir, "on_command", "Traceback")

    marker = uuid.uuid4().hex[:8]
    stamp = str(now_ms())
    valid = _frame("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": right})
    # (what, data, attributes, how on_command logs it)
    dropped = [
        ("not UTF-8", b"\xff\xfe\xfd garbage", {"uid": f"p-{marker}-0", "received_at_ms": stamp}),
        ("empty", b"", {"uid": f"p-{marker}-1", "received_at_ms": stamp}),
        ("truncated JSON", valid[:20], {"uid": f"p-{marker}-2", "received_at_ms": stamp}),
        ("a JSON array", b"[1, 2, 3]", {"uid": f"p-{marker}-3", "received_at_ms": stamp}),
        ("a JSON string", b'"SUBMIT_ANSWER"', {"uid": f"p-{marker}-4", "received_at_ms": stamp}),
        ("no attributes", valid, {}),
        ("no uid", valid, {"received_at_ms": stamp}),
        ("no receive time", valid, {"uid": f"p-{marker}-7"}),
        ("receive time not a number", valid, {"uid": f"p-{marker}-8", "received_at_ms": "yesterday"}),
    ]
    refused = [
        ("unknown type", _frame("FLY", {}), "INVALID_MESSAGE"),
        ("not a command", _frame("PING", {}), "INVALID_MESSAGE"),
        (
            "missing field",
            _frame("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first}),
            "INVALID_MESSAGE",
        ),
        ("unknown field", _frame("LEAVE_SESSION", {"session_id": session_id, "uid": "x"}), "INVALID_MESSAGE"),
        ("wrong type", _frame("JOIN_SESSION", {"session_id": 7, "username": "Zed"}), "INVALID_MESSAGE"),
        ("long message id", _frame("REJOIN", {"session_id": session_id}, "m" * 100), "INVALID_MESSAGE"),
        ("no such session", _frame("REJOIN", {"session_id": "NOPE99"}), "INVALID_SESSION"),
        ("not joined", valid, "NOT_JOINED"),
    ]

    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(PROJECT_ID, COMMANDS_TOPIC)
    await alice.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": right})
    published: dict[str, str] = {}
    futures = [(what, publisher.publish(topic, data, **attrs)) for what, data, attrs in dropped]
    futures += [
        (what, publisher.publish(topic, data, uid=f"r-{marker}-{i}", received_at_ms=stamp))
        for i, (what, data, _) in enumerate(refused)
    ]
    for what, future in futures:
        published[what] = await asyncio.wrap_future(future)
    # Wrong for every question of vocab-101.
    await bob.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": "weary"})

    alice_score = (await alice.expect("SCORE_UPDATED", timeout_s=20))["payload"]
    bob_score = (await bob.expect("SCORE_UPDATED", timeout_s=20))["payload"]
    assert alice_score["is_correct"] and alice_score["new_score"] == alice_score["points_earned"] >= 10
    assert not bob_score["is_correct"] and bob_score["new_score"] == 0

    await asyncio.sleep(4)  # a poison answered 5xx would have come back about every second
    lines = _log_lines(stack)
    for what, _, _ in dropped:
        mine = [
            line
            for line in lines
            if line.get("message") == "poison command dropped" and line.get("message_id") == published[what]
        ]
        assert len(mine) == 1, f"{what}: {mine}"
        assert mine[0]["severity"] == "ERROR" and mine[0]["error"]
    for i, (what, _, code) in enumerate(refused):
        mine = [line for line in lines if line.get("uid") == f"r-{marker}-{i}"]
        assert [(line["message"], line["code"]) for line in mine] == [("command refused", code)], what
    assert count_in_logs(stack.log_dir, "on_command", "Traceback") == tracebacks_before
    assert stack.child("on_command").process.poll() is None


# -- poison that still crashes on_command: in-process --------------------------------------


@pytest.fixture(scope="module")
def on_command(stack: Any) -> Iterator[Callable[[bytes, dict[str, str]], None]]:
    """functions/main.py's on_command in this process, against the stack's emulators."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    env = stack.service_env()
    with pytest.MonkeyPatch.context() as patch:
        for key in ("FLUSH_URL", "TIMER_URL", "EVENTS_TOPIC", *stack.client_env()):
            patch.setenv(key, env[key])
        main = functions_main()  # configures JSON logging on the root logger: restored below

        def push(data: bytes, attributes: dict[str, str]) -> None:
            message = {"data": base64.b64encode(data).decode(), "attributes": attributes, "messageId": "1"}
            source = f"//pubsub.googleapis.com/projects/{PROJECT_ID}/topics/{COMMANDS_TOPIC}"
            main.on_command(
                CloudEvent(
                    {"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": source},
                    {"message": message},
                )
            )

        yield push
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _attrs(uid: str = "poison-user") -> dict[str, str]:
    return {"uid": uid, "received_at_ms": str(int(time.time() * 1000))}


def test_poison_command_that_is_refused_in_process_returns(
    on_command: Callable[[bytes, dict[str, str]], None],
) -> None:
    on_command(_frame("JOIN_SESSION", {"session_id": "NOPE99", "username": "Zed"}), _attrs())
    on_command(b"\x00\x01", _attrs())


@pytest.mark.parametrize("payload", [["session_id"], "session_id", 7, None])
def test_poison_command_whose_payload_is_no_object_is_refused_not_retried(
    on_command: Callable[[bytes, dict[str, str]], None], payload: Any
) -> None:
    on_command(_frame("SUBMIT_ANSWER", payload), _attrs())


@pytest.mark.parametrize(
    ("frame", "uid"),
    [
        (_frame("JOIN_SESSION", {"session_id": "a/b", "username": "Zed"}), "poison-user"),
        (_frame("JOIN_SESSION", {"session_id": "__x__", "username": "Zed"}), "poison-user"),
        (_frame("REJOIN", {"session_id": ".."}), "poison-user"),
        (
            _frame("SUBMIT_ANSWER", {"session_id": "NOPE99", "question_id": "q/1", "answer": "a"}),
            "poison-user",
        ),
        (_frame("JOIN_SESSION", {"session_id": "NOPE99", "username": "Zed"}), "a/b"),
    ],
    ids=["session-slash", "session-reserved", "session-dots", "question-slash", "uid-slash"],
)
def test_poison_command_naming_no_valid_document_id_is_refused_not_retried(
    on_command: Callable[[bytes, dict[str, str]], None], frame: bytes, uid: str
) -> None:
    on_command(frame, _attrs(uid))


def test_poison_answer_holding_a_lone_surrogate_is_refused_not_retried(
    on_command: Callable[[bytes, dict[str, str]], None],
) -> None:
    main = functions_main()

    game = main.game()
    host_uid, uid = f"host-{uuid.uuid4().hex[:8]}", f"uid-{uuid.uuid4().hex[:8]}"
    session = game.create_session("vocab-101", host_uid, 10, False)
    game.store.join(session.id, uid, "Sam", now_ms())
    game.start(session.id, host_uid)
    question_id = open_question(game, session.id).id  # only the answer's text is poison
    answer = _frame(
        "SUBMIT_ANSWER", {"session_id": session.id, "question_id": question_id, "answer": "caf\ud800"}
    )
    on_command(answer, _attrs(uid))
