"""Clocks: only server clocks count. A client whose clock is 10 s off, or who claims any
time_taken_ms, scores what the gateway's receive stamp says; and an answer delivered to
the functions long after its question closed scores exactly as it would have on time
(its receive stamp travels with it), while one received after the close is refused."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from typing import Any

import pytest
from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined,unused-ignore]

from bots.client import Host, Player
from devstack.stack import COMMANDS_TOPIC, PROJECT_ID
from tests.conftest import add_player
from tests.faults.games import right_answer
from vocabquiz.protocol import format_timestamp, now_ms, parse_timestamp_ms

pytestmark = pytest.mark.stack


def oracle(correct: bool, time_taken_ms: int) -> int:
    return 10 + max(0, 5 - time_taken_ms // 2000) if correct else 0


async def _send_answer(
    player: Player, session_id: str, question_id: str, answer: str, **extra: Any
) -> tuple[str, int]:
    """(message_id, wall-clock ms at send), with whatever envelope/payload lies `extra` holds."""
    message_id = uuid.uuid4().hex
    payload = {"session_id": session_id, "question_id": question_id, "answer": answer}
    frame = {"type": "SUBMIT_ANSWER", "payload": payload, "message_id": message_id}
    if "timestamp" in extra:
        frame["timestamp"] = extra.pop("timestamp")
    payload.update(extra)
    assert player._socket is not None
    sent_ms = now_ms()
    await player._socket.send(json.dumps(frame))
    return message_id, sent_ms


def _answer_doc(session_id: str, uid: str, question_id: str) -> dict[str, Any]:
    answers = firestore.Client(project=PROJECT_ID).collection(f"sessions/{session_id}/answers")
    doc = answers.document(f"{uid}_{question_id}").get()
    assert doc.exists
    return doc.to_dict() or {}


def _session_doc(session_id: str) -> dict[str, Any]:
    return firestore.Client(project=PROJECT_ID).document(f"sessions/{session_id}").get().to_dict() or {}


async def _joined(
    players: list[Player], urls: dict[str, str], session_id: str, names: list[str]
) -> list[Player]:
    joined = []
    for name in names:
        player = await add_player(players, urls)
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await player.expect("SESSION_JOINED")
        joined.append(player)
    return joined


async def test_clients_with_skewed_clocks_and_lying_timings_score_on_server_time(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    ahead, behind = await _joined(players, urls, session_id, ["Ahead", "Behind"])
    await host.action(session_id, "start")
    started = (await ahead.expect("QUESTION_STARTED"))["payload"]
    # The first of the session's own order, the same for both; right as the store holds it.
    first = started["question"]["question_id"]
    assert (await behind.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"] == first
    right = right_answer(session_id, first)
    started_ms = parse_timestamp_ms(started["started_at"])

    # 10 s fast, sending early and claiming it took 19 s; 10 s slow, sending after ~2.7 s
    # and claiming it took no time at all.
    await asyncio.sleep(max(0.0, (started_ms + 500 - now_ms()) / 1000))
    ahead_id, ahead_sent = await _send_answer(
        ahead, session_id, first, right, timestamp=format_timestamp(now_ms() + 10_000), time_taken_ms=19_000
    )
    await asyncio.sleep(max(0.0, (started_ms + 2_700 - now_ms()) / 1000))
    behind_id, behind_sent = await _send_answer(
        behind, session_id, first, right, timestamp=format_timestamp(now_ms() - 10_000), time_taken_ms=0
    )

    timing = _session_doc(session_id)["timings"][first]
    for player, message_id, sent_ms in ((ahead, ahead_id, ahead_sent), (behind, behind_id, behind_sent)):
        await player.expect("ACK", message_id=message_id)
        score = (await player.expect("SCORE_UPDATED", timeout_s=20))["payload"]
        doc = _answer_doc(session_id, player.uid, first)
        assert doc["time_taken_ms"] == doc["received_at_ms"] - timing["started_at_ms"]
        assert doc["points"] == score["points_earned"] == oracle(True, doc["time_taken_ms"])
        # The gateway stamped it just after this client sent it (same machine, same clock).
        assert 0 <= doc["received_at_ms"] - sent_ms < 1_500
        assert score["points_earned"] in (
            oracle(True, sent_ms - started_ms),
            oracle(True, sent_ms - started_ms) - 1,
        )
    assert _answer_doc(session_id, ahead.uid, first)["points"] == 15
    assert _answer_doc(session_id, behind.uid, first)["points"] in (14, 13)


async def test_answer_delivered_long_after_its_question_closed_scores_as_received(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str], save_quiz: Any
) -> None:
    question = {"kind": "choice", "options": ["elated", "weary"], "accepted": ["elated"], "time_limit_s": 5}
    quiz_id = save_quiz(
        {
            "id": "clocks",
            "title": "Clocks",
            "questions": [{"id": f"q{i}", "text": f"Q{i}", **question} for i in (1, 2)],
        }
    )
    session_id = (await host.create_session(quiz_id, auto_advance=False))["session_id"]
    early, delayed, late = await _joined(players, urls, session_id, ["Early", "Delayed", "Late"])
    subscriber = pubsub_v1.SubscriberClient()
    capture = subscriber.subscription_path(PROJECT_ID, f"{COMMANDS_TOPIC}-clocks-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        name=capture, topic=subscriber.topic_path(PROJECT_ID, COMMANDS_TOPIC), ack_deadline_seconds=60
    )
    on_command = stack.child("on_command")
    try:
        await host.action(session_id, "start")
        started = (await early.expect("QUESTION_STARTED"))["payload"]
        started_ms = parse_timestamp_ms(started["started_at"])
        # Whichever of the two the session's order opens first: "elated" is right in both.
        opened = started["question"]["question_id"]
        early_id, _ = await _send_answer(early, session_id, opened, "elated")
        first = (await early.expect("SCORE_UPDATED", timeout_s=20))["payload"]

        # The functions go down: answers are stored by Pub/Sub, acknowledged, not processed.
        os.killpg(on_command.process.pid, signal.SIGKILL)
        on_command.process.wait()
        await asyncio.sleep(max(0.0, (started_ms + 1_500 - now_ms()) / 1000))
        delayed_id, _ = await _send_answer(delayed, session_id, opened, "elated")
        await delayed.expect("ACK", message_id=delayed_id)
        await host.action(session_id, "next")  # reveal: the question closes
        await late.expect("QUESTION_ENDED")
        late_id, _ = await _send_answer(late, session_id, opened, "elated")
        await late.expect("ACK", message_id=late_id)
        await asyncio.sleep(
            max(0.0, (started_ms + 9_000 - now_ms()) / 1000)
        )  # deadline 5 s + grace, long past

        pulled = subscriber.pull(request={"subscription": capture, "max_messages": 100}, timeout=10)
        original = next(m.message for m in pulled.received_messages if early_id.encode() in m.message.data)
        await asyncio.to_thread(stack.restart, "on_command", crash=False)

        score = (await delayed.expect("SCORE_UPDATED", timeout_s=60))["payload"]
        revealed_at = _session_doc(session_id)["timings"][opened]["revealed_at_ms"]
        doc = _answer_doc(session_id, delayed.uid, opened)
        assert doc["received_at_ms"] < revealed_at < now_ms() - 5_000
        assert doc["time_taken_ms"] == doc["received_at_ms"] - started_ms < 2_000
        assert score["points_earned"] == doc["points"] == 15 and score["new_score"] == 15

        refused = await late.expect("ERROR", timeout_s=60)
        assert refused["payload"]["code"] == "QUESTION_CLOSED" and refused["message_id"] == late_id
        # Early's command again, as Pub/Sub would redeliver it: same data, same attributes.
        # The gateway sends no socket an event it has had (gateway/repeats.py), so the
        # replayed verdict is heard on a socket Early opens since, seated again by REJOIN.
        early_again = Player(urls["ws"], early.token, early.uid, origin=urls["origin"])
        await early_again.connect()
        players.append(early_again)
        await early_again.send("REJOIN", {"session_id": session_id})
        await early_again.expect("SESSION_JOINED", timeout_s=20)
        publisher = pubsub_v1.PublisherClient()
        publisher.publish(
            publisher.topic_path(PROJECT_ID, COMMANDS_TOPIC), original.data, **dict(original.attributes)
        ).result()
        replayed = (await early_again.expect("SCORE_UPDATED", timeout_s=60))["payload"]
        assert replayed == first
        assert [f["payload"] for f in early.of_type("SCORE_UPDATED")] == [first]  # not twice
        assert _answer_doc(session_id, early.uid, opened)["message_id"] == f"{early.uid}/{early_id}"
        participants = firestore.Client(project=PROJECT_ID).collection(f"sessions/{session_id}/participants")
        scores = {doc.id: doc.get("score") for doc in participants.stream()}
        assert scores == {early.uid: first["new_score"], delayed.uid: 15, late.uid: 0}
        assert (
            not firestore.Client(project=PROJECT_ID)
            .document(f"sessions/{session_id}/answers/{late.uid}_{opened}")
            .get()
            .exists
        )
    finally:
        if stack.child("on_command").process.poll() is not None:
            await asyncio.to_thread(stack.restart, "on_command", crash=False)
        subscriber.delete_subscription(subscription=capture)
