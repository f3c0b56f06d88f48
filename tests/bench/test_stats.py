"""The bench's arithmetic: percentiles, hops from frame stamps, histogram quantiles."""

from __future__ import annotations

import math

from bench.e2e.stats import (
    distribution,
    histogram_buckets,
    histogram_quantiles,
    in_flight,
    max_in_window,
    percentile,
    summarise_probe,
    summarise_swarm,
)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7


def test_percentile_of_nothing_is_nan_and_nan_values_are_ignored() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([math.nan, 3.0, math.nan], 50) == 3
    assert distribution([math.nan, 1.0, 2.0])["n"] == 2


def test_max_in_window_counts_the_busiest_second() -> None:
    assert max_in_window([0.0, 0.1, 0.2, 0.95, 1.5, 1.6]) == 4
    assert max_in_window([0.0, 1.0, 2.0]) == 1
    assert max_in_window([]) == 0


def _row(**overrides: float) -> dict[str, float | str | int]:
    row: dict[str, float | str | int] = {
        "session": "s1",
        "index": 0,
        "sent": 100.000,
        "received_ms": 100_002.0,
        "ack_at": 100.012,
        "ack_ts_ms": 100_010.0,
        "score_ts_ms": 100_090.0,
        "score_at": 100.120,
        "board_ts_ms": 100_150.0,
        "board_at": 100.200,
    }
    row.update(overrides)
    return row


def test_summary_splits_an_answer_into_hops_that_add_up() -> None:
    raw = {"answers": [_row()], "starts": [("s1", 0, 1.0), ("s1", 0, 1.004)], "boards": [], "errors": {}}
    s = summarise_swarm(raw)
    assert s["answer_to_score_ms"]["p50"] == 120
    assert s["answer_to_leaderboard_ms"]["p50"] == 200
    hops = s["score_hops_ms"]
    assert [hops[k]["p50"] for k in hops] == [2, 8, 80, 30]
    assert sum(hops[k]["p50"] for k in hops) == s["answer_to_score_ms"]["p50"]
    assert s["question_start_skew_ms"]["p50"] == 4


def test_summary_counts_unscored_answers_and_leaderboards_per_session() -> None:
    raw = {
        "answers": [_row(), _row(score_at=math.nan, score_ts_ms=math.nan, board_at=math.nan)],
        "starts": [],
        "boards": [("s1", v, 10 + v * 0.1) for v in range(15)] + [("s2", 1, 10.0)],
        "errors": {"no SESSION_ENDED": 1},
    }
    s = summarise_swarm(raw)
    assert (s["answers"], s["scored"]) == (2, 1)
    assert s["answer_to_score_ms"]["n"] == 1
    assert s["leaderboard_frames_per_session_s_max"] == 10
    assert s["errors"] == {"no SESSION_ENDED": 1}


METRICS = """# HELP quiz_gateway_publish_latency_seconds x
quiz_gateway_publish_latency_seconds_bucket{le="0.01"} %d
quiz_gateway_publish_latency_seconds_bucket{le="0.1"} %d
quiz_gateway_publish_latency_seconds_bucket{le="+Inf"} %d
quiz_gateway_fanout_latency_seconds_bucket{le="0.01"} 999
"""


def test_histogram_quantiles_interpolate_between_two_scrapes() -> None:
    before = histogram_buckets(METRICS % (10, 10, 10), "quiz_gateway_publish_latency_seconds")
    after = histogram_buckets(METRICS % (60, 110, 110), "quiz_gateway_publish_latency_seconds")
    q = histogram_quantiles(before, after)
    assert q["n"] == 100
    assert q["p50"] == 10.0  # all 50 of the first half fall in the first bucket
    assert q["p95"] == 91.0  # 45 of the 50 in (10 ms, 100 ms]
    assert math.isnan(histogram_quantiles(after, after)["p50"])


def test_probe_lines_become_distributions_per_function_and_kind() -> None:
    lines = [
        {"fn": "on_command", "kind": "SUBMIT_ANSWER", "store_ms": 20.0, "total_ms": 30.0, "began_at": 0.0},
        {"fn": "on_command", "kind": "SUBMIT_ANSWER", "store_ms": 40.0, "total_ms": 50.0, "began_at": 10.0},
        {"fn": "flush_leaderboard", "kind": "flush", "since_due_ms": 5.0, "total_ms": 9.0, "began_at": 100.0},
    ]
    probe = summarise_probe(lines)
    assert probe["on_command:SUBMIT_ANSWER"]["store_ms"]["p50"] == 20
    assert probe["on_command:SUBMIT_ANSWER"]["store_ms"]["max"] == 40
    assert "began_at" not in probe["on_command:SUBMIT_ANSWER"]
    flights = in_flight(lines)
    assert flights["on_command"]["max"] == 2
    assert flights["flush_leaderboard"] == {"max": 1, "mean_while_busy": 1.0}
