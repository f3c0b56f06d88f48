"""What `make bench` prints: the targets' verdicts and the tables."""

from __future__ import annotations

import math
from typing import Any

from bench.e2e.report import (
    cost_lines,
    cost_table,
    cpu_ms_table,
    latency_table,
    markdown,
    ratio_table,
    verdicts,
)


def _result(
    system: str, players: int, score_p50: float, score_p99: float, board_p99: float
) -> dict[str, Any]:
    def dist(p50: float, p99: float) -> dict[str, float]:
        return {"n": 10, "p50": p50, "p95": p99, "p99": p99, "max": p99}

    hops = {"client -> server receive": dist(1, 2)}
    return {
        "system": system,
        "players": players,
        "sessions": 4,
        "summary": {
            "answers": 10,
            "scored": 10,
            "answer_to_score_ms": dist(score_p50, score_p99),
            "answer_to_leaderboard_ms": dist(score_p50 * 2, board_p99),
            "question_start_skew_ms": dist(3, 9),
            "leaderboard_frames_per_session_s_max": 10,
            "score_hops_ms": hops,
            "leaderboard_hops_ms": {},
            "errors": {},
        },
        "server_cpu_pct": {"mean": 50.0, "peak": 90.0},
        "server_rss_mib": 80.0,
        "system_cpu_s": 5.0,
        "cpu_pct": {"gateway": 10.0, "bots": 5.0},
    }


def test_targets_pass_or_miss_at_a_thousand_players_on_the_stack() -> None:
    results = [_result("stack", 1000, 140, 320, 400), _result("socketio", 1000, 2, 9, 100)]
    found = {v["target"]: v["pass"] for v in verdicts(results) if "per answer" not in v["target"]}
    assert found == {
        "answer -> own SCORE_UPDATED p50 <= 150 ms": True,
        "answer -> own SCORE_UPDATED p99 <= 300 ms": False,
        "answer -> LEADERBOARD_UPDATED p99 <= 450 ms": True,
        "<= 10 leaderboard frames per session per second": True,
    }


def _cost(stack_ms: float, own_ms: float, invocations: float, rpcs: float | None) -> dict[str, Any]:
    return {
        "answers": 1000,
        "answers_are": "sent",
        "invocations": {"on_command": invocations, "total": invocations},
        "firestore_rpcs": {"on_command": rpcs, "total": rpcs},
        "firestore_reads": {"on_command": 0.5, "total": 0.5},
        "firestore_writes": {"on_command": 2.0, "total": 2.0},
        "cpu_ms": {
            "firestore": stack_ms - own_ms,
            "gateway": own_ms,
            "stack_total": stack_ms,
            "own_python_total": own_ms,
        },
    }


def test_cost_targets_are_judged_on_each_rung_with_full_sessions() -> None:
    small, full, bigger = (_result("stack", n, 100, 200, 300) for n in (100, 500, 1000))
    small["sessions"], full["sessions"], bigger["sessions"] = 1, 2, 4
    small["per_answer"] = _cost(50, 20, 1.0, 3.0)
    full["per_answer"] = _cost(7.5, 3.5, 0.05, None)
    bigger["per_answer"] = _cost(9, 2, 0.2, 0.25)
    cost = [v for v in verdicts([small, full, bigger]) if "per answer" in v["target"]]
    found = {(v["target"], v["players"]): v["pass"] for v in cost}
    assert found == {
        ("<= 8 CPU-ms per answer, whole stack", 500): True,
        ("<= 8 CPU-ms per answer, whole stack", 1000): False,
        ("<= 3 CPU-ms per answer, own Python processes", 500): False,
        ("<= 3 CPU-ms per answer, own Python processes", 1000): True,
        ("<= 0.1 function invocations per answer", 500): True,
        ("<= 0.1 function invocations per answer", 1000): False,
        ("<= 0.3 Firestore RPCs per answer", 500): None,
        ("<= 0.3 Firestore RPCs per answer", 1000): True,
    }


def test_cost_targets_without_a_full_session_rung_are_not_run() -> None:
    small = _result("stack", 100, 100, 200, 300)
    small["sessions"], small["per_answer"] = 1, _cost(50, 20, 1.0, 3.0)
    cost = [v for v in verdicts([small]) if "per answer" in v["target"]]
    assert len(cost) == 4
    assert all(v["pass"] is None and v["players"] is None for v in cost)
    assert "not run" in markdown([small])


def test_cost_tables_show_each_figure_per_answer_of_the_stack_rungs() -> None:
    stack, socketio = _result("stack", 500, 100, 200, 300), _result("socketio", 500, 2, 9, 100)
    stack["per_answer"] = _cost(7.5, 3.5, 0.05, 0.125)
    table = cost_table([socketio, stack]).splitlines()
    assert len(table) == 3
    assert "total (on_command)" in table[0]
    assert table[2] == "| 500 (4) | 1,000 | 0.05 (0.05) | 0.125 (0.125) | 0.50 / 2.00 | 7.5 | 3.5 |"
    assert "| 500 | 4.0 | 3.5 | 7.5 | 3.5 |" in cpu_ms_table([stack])
    assert cost_lines(socketio) == []
    assert cost_lines(stack)[0].endswith(
        "invocations 0.05 (on_command 0.05); Firestore RPCs 0.125 (on_command 0.125);"
        " document reads / writes 0.50 / 2.00"
    )
    assert "whole stack 7.5, own Python 3.5 (firestore 4.0, gateway 3.5)" in cost_lines(stack)[1]
    assert "### Cost per answer" in markdown([stack])


def test_targets_without_a_thousand_player_run_are_not_judged() -> None:
    results = [_result("stack", 500, 100, 200, 300)]
    assert all(v["pass"] is None and math.isnan(v["value"]) for v in verdicts(results))


def test_tables_list_each_run_and_the_stack_to_socketio_ratio() -> None:
    results = [_result("socketio", 100, 2, 10, 100), _result("stack", 100, 120, 300, 400)]
    table = latency_table(results).splitlines()
    assert "| 100 (4) | stack | 120 / 300 / 300 |" in table[2]
    assert "| socketio |" in table[3]
    assert "| 100 | 60.0x | 30.0x |" in ratio_table(results)
    assert "### Targets" in markdown(results, ["a note"])
