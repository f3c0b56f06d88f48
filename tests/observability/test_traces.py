"""One answer, followed through the local stack's logs by its trace id: the gateway that
received it, on_command that scored it, and the flush that put it on the leaderboard
(docs/observability.md walks the same path by hand)."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from bots.client import Host, Player, sign_up_anonymously
from tests.conftest import add_player
from tests.observability.logfiles import Entry, entries, trace_id, wait_for_entry

pytestmark = pytest.mark.stack


async def _answer_once(host: Host, players: list[Player], urls: dict[str, str]) -> tuple[str, Player, str]:
    """A player joins, the host starts, the player answers: (session, player, message id)."""
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    player = await add_player(players, urls)
    await player.send("JOIN_SESSION", {"session_id": session_id, "username": "Tracy"})
    await player.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    # The first question of the session's own order, answered right.
    first = (await player.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"]
    right = {"q1": "elated", "q2": "concise", "q3": "author", "q4": "modern", "q5": "café"}[first]
    # Past the join's flush window: the answer's own flush request creates the task.
    await asyncio.sleep(0.3)
    message_id = await player.send(
        "SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": right}
    )
    await player.expect("SCORE_UPDATED")
    return session_id, player, message_id


def _spans(path: Path, trace: str) -> list[Entry]:
    """Spans the console exporter wrote for one trace (0x-prefixed ids in its JSON)."""
    return [e for e in entries(path) if e.get("context", {}).get("trace_id") == f"0x{trace}"]


async def test_one_answers_trace_id_is_in_the_gateway_on_command_and_flush_logs(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id, player, message_id = await _answer_once(host, players, urls)
    logs = stack.log_dir

    received = wait_for_entry(logs / "gateway.log", lambda e: e.get("message_id") == message_id)
    trace = trace_id(received)
    assert trace and len(trace) == 32
    assert received["uid"] == player.uid and received["session_id"] == session_id

    scored = wait_for_entry(
        logs / "on_command.log",
        lambda e: e.get("message") == "answer scored" and e.get("message_id") == message_id,
    )
    assert trace_id(scored) == trace
    assert scored["logging.googleapis.com/trace"] == f"projects/demo-quiz/traces/{trace}"
    assert scored["session_id"] == session_id and scored["uid"] == player.uid
    assert scored["connection_id"] == received["connection_id"]
    assert scored["correct"] is True and scored["task_created"] is True

    # The answer's flush, not the snapshot flush it may ask for, which joins the trace too
    # and can log first (it runs at the second's end, maybe before the flush that asked logs).
    flushed = wait_for_entry(
        logs / "flush_leaderboard.log",
        lambda e: e.get("message") == "leaderboard flushed" and trace_id(e) == trace and not e["snapshot"],
    )
    assert flushed["session_id"] == session_id and flushed["task_kind"] == "snap"
    in_trace = [e for e in entries(logs / "flush_leaderboard.log") if trace_id(e) == trace]
    assert [e["snapshot"] for e in in_trace if e.get("message") == "leaderboard flushed"].count(False) == 1


async def test_one_answers_trace_holds_publish_score_task_flush_and_fan_out_spans(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    _, player, message_id = await _answer_once(host, players, urls)
    logs = stack.log_dir
    await player.expect("LEADERBOARD_UPDATED", timeout_s=5)
    trace = trace_id(wait_for_entry(logs / "gateway.log", lambda e: e.get("message_id") == message_id))
    assert trace

    expected = {
        "gateway.log": {"publish quiz-commands", "fan-out SCORE_UPDATED", "fan-out LEADERBOARD_UPDATED"},
        "on_command.log": {"on_command", "score commit", "publish quiz-events", "create task lb"},
        "flush_leaderboard.log": {"flush_leaderboard", "publish quiz-events"},
    }
    for name, spans in expected.items():
        for _ in range(50):  # spans leave in batches, about once a second
            found = {s["name"] for s in _spans(logs / name, trace)}
            if spans <= found:
                break
            await asyncio.sleep(0.1)
        assert spans <= found, f"{name}: {sorted(found)}"

    # The flush is a child of the task creation that asked for it: one tree, not two traces.
    # That flush may ask for the second's snapshot, whose flush then joins the trace as a
    # child of its `create task snap`: a trace holds one or two flushes, each hanging from
    # a task creation. Spans are written as they end, so no order between the two is assumed.
    (create,) = [s for s in _spans(logs / "on_command.log", trace) if s["name"] == "create task lb"]
    flush_spans = _spans(logs / "flush_leaderboard.log", trace)
    flushes = [s for s in flush_spans if s["name"] == "flush_leaderboard"]
    snap_creations = {s["context"]["span_id"] for s in flush_spans if s["name"] == "create task snap"}
    (answers_flush,) = [f for f in flushes if f["parent_id"] == create["context"]["span_id"]]
    snapshot_flushes = [f for f in flushes if f is not answers_flush]
    assert len(snapshot_flushes) <= 1, flushes
    assert all(f["parent_id"] in snap_creations for f in snapshot_flushes), flushes


async def test_a_client_traceparent_is_continued_through_the_functions(
    stack: Any, host: Host, urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    uid, token = await sign_up_anonymously(urls["auth"])
    trace, parent = secrets.token_hex(16), secrets.token_hex(8)
    message_id = uuid.uuid4().hex
    frame = {
        "type": "JOIN_SESSION",
        "payload": {"session_id": session_id, "username": "Parent"},
        "message_id": message_id,
        "traceparent": f"00-{trace}-{parent}-01",
    }
    async with connect(urls["ws"], additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        await socket.send(json.dumps(frame))
        while json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] != "SESSION_JOINED":
            pass
    joined = wait_for_entry(
        stack.log_dir / "on_command.log",
        lambda e: e.get("message") == "player joined" and e.get("uid") == uid,
    )
    assert trace_id(joined) == trace
