"""The gateway's sans-I/O core, fed by hand: a client's frames judged (rate limit,
strikes, resend dedupe, PING) and a session's leaderboards paced. No socket, loop or
Pub/Sub: the clock is a number the test moves."""

from __future__ import annotations

import json
import uuid

import pytest

from gateway.core import (
    ACCEPTED_IDS_KEPT,
    RATE_LIMIT_CLOSE,
    Answered,
    BoardPacer,
    Client,
    FrameLimits,
    Publish,
    Refused,
    Verdict,
)
from vocabquiz.protocol import ServerType, encode_frame, format_timestamp, server_frame

LIMITS = FrameLimits(rate_per_s=20, burst=40)
T0_US = 1_000 * 1_000_000
AT_MS = 1_763_289_000_123
GAP_S = 0.1
NOW_S = 5_000.0  # the event loop's clock


def _frame(kind: str = "SUBMIT_ANSWER", message_id: str | None = None) -> str:
    payload = {"session_id": "S1", "question_id": "q1", "answer": "elated"} if kind == "SUBMIT_ANSWER" else {}
    return json.dumps({"type": kind, "payload": payload, "message_id": message_id or uuid.uuid4().hex})


def _read(client: Client, raw: str, now_us: int = T0_US) -> Verdict:
    return client.read(raw, now_us, AT_MS)


def _board(version: int) -> bytes:
    payload = {"session_id": "S1", "version": version, "leaderboard": [], "ranks": {}}
    frame = server_frame(ServerType.LEADERBOARD_UPDATED, payload, message_id=f"lb-S1-{version}", at_ms=AT_MS)
    return encode_frame(frame).encode()


# -- a client's frames ------------------------------------------------------------------


def test_client_within_its_burst_has_each_command_published() -> None:
    client = Client(LIMITS, T0_US)
    verdicts = [_read(client, _frame()) for _ in range(LIMITS.burst)]
    assert all(isinstance(v, Publish) and v.frame.payload["answer"] == "elated" for v in verdicts)


def test_client_past_its_burst_is_told_it_is_rate_limited() -> None:
    client = Client(LIMITS, T0_US)
    for _ in range(LIMITS.burst):
        _read(client, _frame())
    refused = _read(client, _frame())
    assert isinstance(refused, Refused) and refused.reason == "rate_limited" and refused.close is None
    assert refused.error is not None and refused.error["payload"]["code"] == "RATE_LIMITED"


def test_client_that_floods_on_after_its_warnings_is_closed_with_1008() -> None:
    client = Client(LIMITS, T0_US)
    verdicts = [_read(client, _frame()) for _ in range(3 * LIMITS.burst + 1)]
    warned = [v for v in verdicts if isinstance(v, Refused) and v.error is not None]
    closed = [v for v in verdicts if isinstance(v, Refused) and v.close is not None]
    assert len(warned) == LIMITS.burst  # one warning per strike, up to the burst
    assert closed[0] == Refused("rate_limited", close=RATE_LIMIT_CLOSE) and RATE_LIMIT_CLOSE[0] == 1008
    assert verdicts.index(closed[0]) == 2 * LIMITS.burst


def test_client_that_bursts_now_and_then_is_warned_but_never_closed() -> None:
    client = Client(LIMITS, T0_US)
    now_us = T0_US
    for _ in range(20):  # a burst of 45 frames, then 3 s of quiet, twenty times over
        verdicts = [_read(client, _frame(), now_us) for _ in range(LIMITS.burst + 5)]
        assert not any(isinstance(v, Refused) and v.close for v in verdicts)
        assert sum(isinstance(v, Refused) for v in verdicts) == 5
        now_us += 3_000_000


def test_client_gets_tokens_back_at_its_rate() -> None:
    client = Client(LIMITS, T0_US)
    for _ in range(LIMITS.burst):
        _read(client, _frame())
    assert isinstance(_read(client, _frame(), T0_US + 49_000), Refused)
    assert isinstance(_read(client, _frame(), T0_US + 50_000), Publish)  # a token each 1/20 s


def test_client_ping_is_answered_with_a_pong_of_its_receive_time() -> None:
    answered = _read(Client(LIMITS, T0_US), _frame("PING", "p-1"))
    assert isinstance(answered, Answered) and answered.frame.message_id == "p-1"
    assert answered.reply["type"] == "PONG" and answered.reply["message_id"] == "p-1"
    assert answered.reply["payload"] == {"server_time": format_timestamp(AT_MS)}


def test_client_invalid_frame_is_refused_with_its_code_and_message_id() -> None:
    refused = _read(Client(LIMITS, T0_US), json.dumps({"type": "SUBMIT_ANSWER", "message_id": "m-9"}))
    assert isinstance(refused, Refused) and refused.reason == "invalid_message"
    assert refused.error is not None and refused.error["payload"]["code"] == "INVALID_MESSAGE"
    assert refused.error["message_id"] == "m-9"


def test_client_past_its_limit_is_refused_before_its_frame_is_read() -> None:
    client = Client(FrameLimits(rate_per_s=1, burst=1), T0_US)
    _read(client, _frame("PING"))
    refused = _read(client, "not json")
    assert isinstance(refused, Refused) and refused.reason == "rate_limited"


def test_client_resend_of_an_accepted_command_is_acked_again_not_published() -> None:
    client = Client(LIMITS, T0_US)
    first = _read(client, _frame(message_id="m-1"))
    assert isinstance(first, Publish)
    ack = client.accepted("m-1")
    assert ack["type"] == "ACK" and ack["payload"] == {"message_id": "m-1"}
    again = _read(client, _frame(message_id="m-1"))
    assert isinstance(again, Answered) and again.reply["payload"] == {"message_id": "m-1"}


def test_client_resend_of_a_command_pubsub_did_not_take_is_published_again() -> None:
    client = Client(LIMITS, T0_US)
    assert isinstance(_read(client, _frame(message_id="m-1")), Publish)  # and the publish failed
    assert isinstance(_read(client, _frame(message_id="m-1")), Publish)


def test_client_remembers_its_latest_accepted_ids_only() -> None:
    client = Client(FrameLimits(rate_per_s=1000, burst=1000), T0_US)
    ids = [f"m-{n}" for n in range(ACCEPTED_IDS_KEPT + 1)]
    for message_id in ids:
        client.accepted(message_id)
    assert isinstance(_read(client, _frame(message_id=ids[0])), Publish)  # the oldest, forgotten
    assert isinstance(_read(client, _frame(message_id=ids[1])), Answered)
    assert isinstance(_read(client, _frame(message_id=ids[-1])), Answered)


# -- a session's leaderboards -----------------------------------------------------------


def test_pacer_sends_a_sessions_first_board_at_once() -> None:
    pacer = BoardPacer()
    assert pacer.offer(_board(1), "00-trace-01", NOW_S, GAP_S) == 0.0
    released = pacer.release()
    assert released is not None and released.data == _board(1) and released.traceparent == "00-trace-01"
    assert not pacer.holding


def _pacer_that_sent_board_1(sent_at_s: float | None) -> BoardPacer:
    """A pacer whose first board went out at `sent_at_s` (None: it reached no socket)."""
    pacer = BoardPacer()
    pacer.offer(_board(1), None, NOW_S, GAP_S)
    pacer.release()
    pacer.sent(sent_at_s)
    return pacer


def test_pacer_holds_a_board_that_arrives_within_the_gap_until_its_end() -> None:
    pacer = _pacer_that_sent_board_1(NOW_S)
    assert pacer.offer(_board(2), None, NOW_S + 0.03, GAP_S) == pytest.approx(GAP_S - 0.03)


def test_pacer_sends_only_the_newest_of_a_burst_with_one_release_arranged() -> None:
    pacer = BoardPacer()
    delays = [pacer.offer(_board(v), f"t{v}", NOW_S, GAP_S) for v in (3, 5, 4, 6)]
    assert delays == [0.0, None, None, None]  # 4 after 5: older than the one held, dropped
    released = pacer.release()
    assert released is not None and released.data == _board(6) and released.traceparent == "t6"


def test_pacer_drops_a_late_board_older_than_the_one_held() -> None:
    pacer = BoardPacer()
    pacer.offer(_board(5), "t5", NOW_S, GAP_S)
    pacer.offer(_board(4), "t4", NOW_S, GAP_S)
    released = pacer.release()
    assert released is not None and released.data == _board(5) and released.traceparent == "t5"


def test_pacer_never_shows_a_board_older_than_the_last_sent() -> None:
    pacer = BoardPacer()
    pacer.offer(_board(7), None, NOW_S, GAP_S)
    pacer.release()
    pacer.sent(NOW_S)
    pacer.offer(_board(6), None, NOW_S + 1, GAP_S)  # flushes publish out of window order
    assert pacer.release() is None
    assert not pacer.holding


def test_pacer_after_a_board_that_reached_no_socket_sends_the_next_at_once() -> None:
    pacer = _pacer_that_sent_board_1(None)
    assert pacer.offer(_board(2), None, NOW_S + 0.01, GAP_S) == 0.0


def test_pacer_board_without_a_trace_carries_none() -> None:
    pacer = BoardPacer()
    pacer.offer(_board(1), "t1", NOW_S, GAP_S)
    pacer.offer(_board(2), "", NOW_S, GAP_S)
    released = pacer.release()
    assert released is not None and released.traceparent is None
