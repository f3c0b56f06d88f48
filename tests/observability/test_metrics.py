"""Metrics move as a scripted session plays: the gateway's Prometheus counters at
/metrics, and the functions' lines that the log-based metrics in terraform count (every
field those metrics read is one the functions write)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bots.client import Host, Player
from tests.conftest import add_player
from tests.infra import tfmodel
from tests.observability.logfiles import entries

pytestmark = pytest.mark.stack

MONITORING = tfmodel.TERRAFORM / "modules" / "monitoring"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


# An accepted answer to each of vocab-101's questions (quizzes/vocab-101.json).
RIGHT = {"q1": "elated", "q2": "concise", "q3": "author", "q4": "modern", "q5": "café"}


def _scrape(metrics_url: str) -> Samples:
    text = httpx.get(f"{metrics_url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return float(samples.get((name, tuple(sorted(labels.items()))), 0.0))


async def _play(host: Host, players: list[Player], urls: dict[str, str]) -> str:
    """Two players, two questions (one right and one wrong answer each), then the end."""
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    bots = [await add_player(players, urls) for _ in range(2)]
    for name, bot in zip(("Ann", "Ben"), bots, strict=True):
        await bot.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await bot.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    for index in range(2):  # the first two of the session's own order
        started = [(await bot.expect("QUESTION_STARTED", index=index))["payload"] for bot in bots]
        question_id = started[0]["question"]["question_id"]
        for bot, answer in zip(bots, (RIGHT[question_id], "none of these"), strict=True):
            await bot.send(
                "SUBMIT_ANSWER", {"session_id": session_id, "question_id": question_id, "answer": answer}
            )
            await bot.expect("SCORE_UPDATED", question_id=question_id)
        for bot in bots:
            await bot.expect("LEADERBOARD_UPDATED")
        await host.action(session_id, "next")  # reveal
        await bots[0].expect("QUESTION_ENDED", index=index)
        if index == 0:
            await host.action(session_id, "next")
    await host.action(session_id, "end")
    for bot in bots:
        await bot.expect("SESSION_ENDED")
    return str(session_id)


async def test_gateway_metrics_move_as_a_scripted_session_plays(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    gateway_url = stack.gateway_metrics.url
    before = _scrape(gateway_url)
    await _play(host, players, urls)
    during = _scrape(gateway_url)
    for player in players:
        await player.close()
    players.clear()

    def moved(name: str, **labels: str) -> float:
        return _value(during, name, **labels) - _value(before, name, **labels)

    assert moved("quiz_gateway_connections") == 2  # both players' sockets open
    assert moved("quiz_gateway_frames_in_total", type="JOIN_SESSION") == 2
    assert moved("quiz_gateway_frames_in_total", type="SUBMIT_ANSWER") == 4
    assert moved("quiz_gateway_frames_out_total", type="ACK") == 6
    assert moved("quiz_gateway_frames_out_total", type="SCORE_UPDATED") == 4
    assert moved("quiz_gateway_frames_out_total", type="QUESTION_STARTED") == 4
    assert moved("quiz_gateway_frames_out_total", type="SESSION_ENDED") == 2
    assert moved("quiz_gateway_frames_out_total", type="LEADERBOARD_UPDATED") >= 4
    assert moved("quiz_gateway_publish_latency_seconds_count") == 6
    assert moved("quiz_gateway_fanout_latency_seconds_count") > 0


# -- log-based metrics (terraform/modules/monitoring) -----------------------------------


def _log_metrics() -> dict[str, tuple[str | None, set[str]]]:
    """Each google_logging_metric: (the log line's message it counts, if it names one;
    every jsonPayload field its filter and extractors read), locals expanded."""
    module = tfmodel.load(MONITORING)
    found = {}
    for (kind, name), body in module.resources.items():
        if kind != "google_logging_metric":
            continue
        text = json.dumps(body)
        for local in re.findall(r"local\.(\w+)", text):
            text += json.dumps(module.locals[local])
        message = re.search(r'jsonPayload\.message=\\+"([^"\\]+)', text)
        fields = set(re.findall(r"jsonPayload\.(\w+)", text)) - {"message"}
        found[name] = (message.group(1) if message else None, fields)
    return found


async def test_every_field_a_log_based_metric_reads_is_on_the_lines_the_functions_write(
    stack: Any, host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = await _play(host, players, urls)
    lines = [
        e
        for name in ("on_command", "flush_leaderboard", "advance_question", "sessions_api")
        for e in entries(stack.log_dir / f"{name}.log")
        if e.get("session_id") == session_id
    ]
    metrics = _log_metrics()
    assert len(metrics) >= 7, sorted(metrics)
    for name, (message, fields) in metrics.items():
        counted = [e for e in lines if message is None or e.get("message") == message]
        counted = [e for e in counted if fields <= set(e)]
        assert counted, f"{name}: no line {message!r} with {sorted(fields)} in session {session_id}"

    scored = [e for e in lines if e.get("message") == "answer scored"]
    assert len(scored) == 4 and sum(e["correct"] for e in scored) == 2
    assert all(isinstance(e["latency_ms"], int) and e["attempts"] >= 1 for e in scored)
    flushes = [e for e in lines if e.get("message") == "leaderboard flushed" and not e["snapshot"]]
    assert flushes and all("lag_ms" in e and "logging.googleapis.com/trace" in e for e in flushes)
