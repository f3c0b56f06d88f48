"""The ledger run (bench.faults) at a small size: 300 answers, some around their deadline
+ grace and some around an early reveal, while every chaos fault fires once at a seeded
random point (on_command SIGKILLed, each emulator frozen, a gateway killed, drained,
paused and made deaf, sockets dropped), commands and events are copied, commits and
publishes lose their replies, flushes and timers are copied or lost, and the servers'
clocks are skewed. `make bench-faults` runs 10,000 answers with every fault ten times."""

from __future__ import annotations

from typing import Any

import pytest

from bench.faults import ANSWER_INVARIANTS, LEADERBOARD_INVARIANTS, Options, Report, run_ledger
from bench.faults.options import CHAOS

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def report(stack: Any) -> Report:
    result = await run_ledger(
        stack,
        Options(answers=300, players=15, seed=7, fault_s=(1.0, 3.0), lost_publish_reply=0.1, progress=False),
    )
    print(result.table())
    return result


def test_ledger_under_faults_scores_every_acknowledged_answer_exactly_once(report: Report) -> None:
    counts = report.counts
    assert report.violations(ANSWER_INVARIANTS) == {}, report.table()
    assert counts["answers sent"] == 300
    assert counts["acknowledged"] + counts["in doubt (never acknowledged)"] == 300
    refused_late = counts["acknowledged, then refused as received too late"]
    scored = counts["acknowledged"] - refused_late + counts["in doubt, scored once"]
    assert counts["answer documents"] == scored, report.table()


def test_ledger_close_race_lands_answers_on_both_sides(report: Report) -> None:
    assert report.counts["close race: scored"] > 5, report.table()
    assert report.counts["close race: told QUESTION_CLOSED"] > 5, report.table()


def test_ledger_faults_were_really_injected(report: Report) -> None:
    fired = {kind: row["fired"] for kind, row in report.fault_kinds.items()}
    assert fired == dict.fromkeys(sorted(CHAOS), 1), report.table()
    assert report.fault_kinds["gateway-kill"]["players moved"] > 0
    assert report.counts["bots reconnected"] > 0
    faults = report.faults
    assert faults["commands copies published"] >= 2 * faults["commands seen"] > 600
    assert faults["commands copies held back"] > 0
    assert faults["events copies published"] >= faults["events seen"] > 300
    assert faults["on_command 500s after commit"] > 20
    assert faults["commit replies lost (functions)"] > 0
    assert faults["publish replies lost (gateways)"] > 0
    assert faults["frames resent after no ACK (bots)"] > 0
    assert faults["flush called directly"] > 0 and faults["flush tasks copied"] > 0
    assert faults["timer tasks copied"] > 0 and faults["close timers lost (deleted)"] > 0


def test_ledger_under_faults_leaves_no_traceback_in_any_log(report: Report) -> None:
    assert report.tracebacks and not any(report.tracebacks.values()), report.tracebacks


def test_ledger_clients_see_each_event_once_and_leaderboards_in_order(report: Report) -> None:
    assert report.violations(LEADERBOARD_INVARIANTS) == {}, report.table()
