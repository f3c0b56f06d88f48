"""The ledger run (bench.faults) at a small size: 300 answers while every command is
published three times, on_command fails after committing, flushes run twice, on_command
and a gateway are SIGKILLed and the emulators frozen. `make bench-faults` runs 10,000."""

from __future__ import annotations

from typing import Any

import pytest

from bench.faults import ANSWER_INVARIANTS, LEADERBOARD_INVARIANTS, Options, Report, run_ledger

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
async def report(stack: Any) -> Report:
    result = await run_ledger(stack, Options(answers=300, players=30, seed=7, progress=False))
    print(result.table())
    return result


def test_ledger_under_faults_scores_every_acknowledged_answer_exactly_once(report: Report) -> None:
    counts = report.counts
    assert report.violations(ANSWER_INVARIANTS) == {}, report.table()
    assert counts["answers sent"] == 300
    assert counts["acknowledged"] + counts["in doubt (never acknowledged)"] == 300
    assert counts["refused with ERROR"] == 0, report.table()
    scored = counts["acknowledged"] + counts["in doubt, scored once"]
    assert counts["answer documents"] == scored, report.table()


def test_ledger_faults_were_really_injected(report: Report) -> None:
    faults = report.faults
    assert faults["copies published"] >= 2 * faults["commands seen"] > 600
    assert faults["copies held back 6-10 s"] > 0
    assert faults["on_command 500s injected"] > 20
    assert faults["on_command SIGKILL + restart"] == 2
    assert faults["Firestore frozen"] == 2 and faults["Pub/Sub frozen"] == 2
    assert faults["gateway SIGKILL"] == 1 and report.counts["bots reconnected"] > 0
    assert faults["flush called directly"] > 0 and faults["flush tasks copied"] > 0


def test_ledger_under_faults_leaves_no_traceback_in_any_log(report: Report) -> None:
    assert report.tracebacks and not any(report.tracebacks.values()), report.tracebacks


def test_ledger_clients_see_each_leaderboard_version_once_in_order(report: Report) -> None:
    assert report.violations(LEADERBOARD_INVARIANTS) == {}
