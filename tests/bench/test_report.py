"""What `make bench` prints: the targets' verdicts and the tables."""

from __future__ import annotations

import math
from typing import Any

from bench.e2e.report import latency_table, markdown, ratio_table, verdicts


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
    found = {v["target"]: v["pass"] for v in verdicts(results)}
    assert found == {
        "answer -> own SCORE_UPDATED p50 <= 150 ms": True,
        "answer -> own SCORE_UPDATED p99 <= 300 ms": False,
        "answer -> LEADERBOARD_UPDATED p99 <= 450 ms": True,
        "<= 10 leaderboard frames per session per second": True,
    }


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
