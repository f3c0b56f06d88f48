"""How commands and events travel over Pub/Sub: a gateway's batch of one session's
commands decodes to the same commands sent alone, a bad part spoils only itself, and a
bundle of per-user frames splits back into each user's frame."""

from __future__ import annotations

import json

from vocabquiz.adapters.events import messages_for
from vocabquiz.protocol import encode_frame, error_frame, server_frame
from vocabquiz.protocol.envelope import (
    ATTR_BATCH,
    ATTR_BUNDLE,
    Command,
    Event,
    commands_from_message,
    encode_bundle,
    encode_command,
    encode_command_batch,
    split_bundle,
)
from vocabquiz.protocol.frames import ErrorCode, ServerType


def _stamps(uid: str, received_at_ms: int) -> dict[str, str]:
    return {
        "uid": uid,
        "received_at_ms": str(received_at_ms),
        "connection_id": f"c-{uid}",
        "traceparent": f"00-{'1' * 32}-{'2' * 16}-01",
    }


def _frame(message_id: str) -> dict[str, object]:
    return {
        "type": "SUBMIT_ANSWER",
        "payload": {"session_id": "S1", "question_id": "q1", "answer": "yes"},
        "message_id": message_id,
    }


def test_batch_decodes_to_the_commands_each_sent_alone() -> None:
    parts = [
        encode_command(encode_frame(_frame(f"m{i}")).encode(), _stamps(f"u{i}", 1000 + i)) for i in range(3)
    ]
    commands, refused = commands_from_message(encode_command_batch(parts), {ATTR_BATCH: "1"})
    assert refused == []
    alone = [
        commands_from_message(encode_frame(_frame(f"m{i}")).encode(), _stamps(f"u{i}", 1000 + i))[0][0]
        for i in range(3)
    ]
    assert commands == alone
    assert commands[1] == Command(
        _frame("m1"), "u1", 1001, "c-u1", traceparent=_stamps("u1", 0)["traceparent"]
    )
    assert commands[1].session_id == "S1"


def test_batch_part_with_a_uid_that_cannot_name_a_document_is_refused_alone() -> None:
    good = encode_command(encode_frame(_frame("m1")).encode(), _stamps("u1", 1))
    bad = encode_command(encode_frame(_frame("m2")).encode(), _stamps("a/b", 2))
    commands, refused = commands_from_message(encode_command_batch([good, bad, b"17"]), {ATTR_BATCH: "1"})
    assert [c.uid for c in commands] == ["u1"]
    assert len(refused) == 2 and "cannot name a document" in refused[0][1]


def test_bundle_splits_into_each_users_frame_even_when_text_holds_newlines_and_spaces() -> None:
    frames = [("u1", encode_frame(error_frame(ErrorCode.INVALID_NAME, "a\nb c")).encode()), ("u2", b"{}")]
    assert split_bundle(encode_bundle(frames)) == frames


def _score(uid: str) -> Event:
    return Event("S1", server_frame(ServerType.SCORE_UPDATED, {"user_id": uid}), target_uid=uid)


def test_scores_of_a_batch_travel_as_one_unordered_bundle_and_lifecycle_on_the_session_key() -> None:
    started = Event("S1", server_frame(ServerType.QUESTION_STARTED, {}))
    board = Event("S1", server_frame(ServerType.LEADERBOARD_UPDATED, {}))
    messages = messages_for([_score("u1"), started, _score("u2"), board])
    assert [(key, attributes.get(ATTR_BUNDLE)) for key, _, attributes in messages] == [
        ("S1", None),
        ("", None),
        ("", "1"),
    ]
    bundle = split_bundle(messages[2][1])
    assert [uid for uid, _ in bundle] == ["u1", "u2"]
    assert json.loads(bundle[1][1])["payload"] == {"user_id": "u2"}


def test_a_reply_to_one_connection_is_not_bundled_and_keeps_the_session_key() -> None:
    reply = Event(
        "S1", error_frame(ErrorCode.QUESTION_CLOSED, "closed"), target_uid="u1", target_connection="c1"
    )
    ((key, _, attributes),) = messages_for([reply])
    assert key == "S1" and attributes["target_connection"] == "c1"
