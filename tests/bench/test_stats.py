"""The bench's arithmetic: percentiles, hops from frame stamps, histogram quantiles, cost
per answer."""

from __future__ import annotations

import math

from bench.e2e.stats import (
    count_invocations,
    cpu_deltas,
    cpu_ms_per_answer,
    distribution,
    histogram_buckets,
    histogram_quantiles,
    in_flight,
    max_in_window,
    per_answer,
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


def _invocation(function: str, rpcs: int | None, reads: int | None = None) -> dict[str, object]:
    line: dict[str, object] = {"message": "invocation", "function": function, "firestore_rpcs": rpcs}
    if reads is not None:
        line |= {"firestore_reads": reads, "firestore_writes": 2 * reads}
    return line | {"duration_ms": 5.0}


def test_invocation_lines_are_counted_per_function_with_their_rpcs() -> None:
    lines = [
        _invocation("on_command", 3, reads=1),
        _invocation("on_command", 2, reads=4),
        _invocation("flush_leaderboard", 4, reads=7),
    ]
    counts = count_invocations(lines, ["on_command", "flush_leaderboard", "advance_question"])
    assert list(counts) == ["on_command", "flush_leaderboard", "advance_question"]
    none = {"firestore_reads": 0, "firestore_writes": 0}
    assert counts == {
        "advance_question": {"invocations": 0, "firestore_rpcs": 0, **none, "uncounted": 0},
        "flush_leaderboard": {
            "invocations": 1,
            "firestore_rpcs": 4,
            "firestore_reads": 7,
            "firestore_writes": 14,
            "uncounted": 0,
        },
        "on_command": {
            "invocations": 2,
            "firestore_rpcs": 5,
            "firestore_reads": 5,
            "firestore_writes": 10,
            "uncounted": 0,
        },
    }


def test_invocation_lines_without_a_count_leave_the_rpcs_unknown() -> None:
    counts = count_invocations([_invocation("on_command", None), _invocation("flush_leaderboard", None)])
    counts |= count_invocations([_invocation("advance_question", None), _invocation("advance_question", 2)])
    assert counts["on_command"] == {
        "invocations": 1,
        "firestore_rpcs": None,
        "firestore_reads": None,
        "firestore_writes": None,
        "uncounted": 1,
    }
    assert counts["advance_question"]["firestore_rpcs"] == 2 and counts["advance_question"]["uncounted"] == 1
    cost = per_answer(counts, {}, 10)
    assert cost["firestore_rpcs"] == {
        "advance_question": 0.2,
        "flush_leaderboard": None,
        "on_command": None,
        "total": 0.2,
    }
    none_counted = per_answer(count_invocations([_invocation("on_command", None)]), {}, 5)
    assert none_counted["firestore_rpcs"] == {"on_command": None, "total": None}


def test_per_answer_divides_counts_by_the_answers_sent() -> None:
    lines = [_invocation("on_command", 3)] * 4 + [_invocation("flush_leaderboard", 1)] * 2
    cost = per_answer(count_invocations(lines), {"gateway": 1.5}, 40)
    assert (cost["answers"], cost["answers_are"]) == (40, "sent")
    assert cost["invocations"] == {"flush_leaderboard": 0.05, "on_command": 0.1, "total": 0.15}
    assert cost["firestore_rpcs"] == {"flush_leaderboard": 0.05, "on_command": 0.3, "total": 0.35}
    assert cost["cpu_ms"]["gateway"] == 37.5


def test_per_answer_of_no_answers_is_unknown() -> None:
    cost = per_answer(count_invocations([_invocation("on_command", 3)]), {"gateway": 1.0}, 0)
    assert cost["invocations"] == {"on_command": None, "total": None}
    assert cost["cpu_ms"]["stack_total"] is None


def test_cpu_per_answer_totals_the_stack_and_the_own_python_processes() -> None:
    spent = {"firestore": 2.0, "pubsub": 1.0, "auth": 0.1, "on_command": 0.5, "gateway": 0.3, "tasks": 0.2}
    cpu = cpu_ms_per_answer(spent, 100)
    assert cpu["firestore"] == 20
    assert cpu["stack_total"] == 41
    assert cpu["own_python_total"] == 10  # on_command, gateway, tasks: not the JVMs, not node


def test_cpu_deltas_cover_only_the_named_groups_and_never_go_negative() -> None:
    before = {"gateway": 10.0, "pusher": 5.0, "bots": 1.0}
    after = {"gateway": 12.5, "pusher": 1.0, "bots": 9.0, "machine": 99.0}
    assert cpu_deltas(before, after, ["gateway", "pusher"]) == {"gateway": 2.5, "pusher": 0.0}
