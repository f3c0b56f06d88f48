"""What a bench run prints and keeps: targets (pass/miss), the summary tables in
Markdown, all built from the rung results alone (pure, so tests can feed it)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

STACK, SOCKETIO = "stack", "socketio"
TARGET_PLAYERS = 1000

# (label, where in a rung's summary, quantile, limit) at TARGET_PLAYERS on the stack.
TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("answer -> own SCORE_UPDATED p50 <= 150 ms", "answer_to_score_ms", "p50", 150),
    ("answer -> own SCORE_UPDATED p99 <= 300 ms", "answer_to_score_ms", "p99", 300),
    ("answer -> LEADERBOARD_UPDATED p99 <= 450 ms", "answer_to_leaderboard_ms", "p99", 450),
)
MAX_BOARDS_PER_S = 10


def _fmt(value: float, digits: int = 0) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    )


def rung(results: Sequence[Mapping[str, Any]], system: str, players: int) -> Mapping[str, Any] | None:
    return next((r for r in results if r["system"] == system and r["players"] == players), None)


def verdicts(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target: its value on the stack at TARGET_PLAYERS and pass/miss (None: not run)."""
    at = rung(results, STACK, TARGET_PLAYERS)
    out = []
    for label, key, q, limit in TARGETS:
        value = at["summary"][key][q] if at else math.nan
        out.append({"target": label, "value": value, "pass": None if math.isnan(value) else value <= limit})
    boards = at["summary"]["leaderboard_frames_per_session_s_max"] if at else math.nan
    out.append(
        {
            "target": f"<= {MAX_BOARDS_PER_S} leaderboard frames per session per second",
            "value": boards,
            "pass": None if at is None else boards <= MAX_BOARDS_PER_S,
        }
    )
    return out


def _triple(d: Mapping[str, float]) -> str:
    return f"{_fmt(d['p50'])} / {_fmt(d['p95'])} / {_fmt(d['p99'])}"


def latency_table(results: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        "| players (sessions) | system | answer → own score p50 / p95 / p99 ms | answer → leaderboard "
        "p50 / p95 / p99 ms | start skew p99 ms | boards/s/session max | server CPU % (mean / peak) "
        "| server RSS MiB | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results, key=lambda r: (r["players"], r["system"] != STACK)):
        s = r["summary"]
        cpu = r["server_cpu_pct"]
        errors = sum(s["errors"].values()) + s["answers"] - s["scored"]
        rows.append(
            f"| {r['players']:,} ({r['sessions']}) | {r['system']} | {_triple(s['answer_to_score_ms'])} "
            f"| {_triple(s['answer_to_leaderboard_ms'])} | {_fmt(s['question_start_skew_ms']['p99'])} "
            f"| {s['leaderboard_frames_per_session_s_max']} | {_fmt(cpu['mean'])} / {_fmt(cpu['peak'])} "
            f"| {_fmt(r['server_rss_mib'])} | {errors} |"
        )
    return "\n".join(rows)


def ratio_table(results: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        "| players | score p50 | score p99 | leaderboard p50 | leaderboard p99 | CPU-seconds per answer |",
        "|---|---|---|---|---|---|",
    ]
    for players in sorted({r["players"] for r in results}):
        ours, theirs = rung(results, STACK, players), rung(results, SOCKETIO, players)
        if ours is None or theirs is None:
            continue
        cells = []
        for key, q in (
            ("answer_to_score_ms", "p50"),
            ("answer_to_score_ms", "p99"),
            ("answer_to_leaderboard_ms", "p50"),
            ("answer_to_leaderboard_ms", "p99"),
        ):
            a, b = ours["summary"][key][q], theirs["summary"][key][q]
            cells.append(f"{a / b:.1f}x" if b and not math.isnan(a / b) else "-")
        per_answer = [r["system_cpu_s"] / max(1, r["summary"]["scored"]) for r in (ours, theirs)]
        cells.append(
            f"{per_answer[0] * 1000:.1f} ms vs {per_answer[1] * 1000:.2f} ms"
            f" ({per_answer[0] / per_answer[1]:.0f}x)"
            if per_answer[1]
            else "-"
        )
        rows.append(f"| {players:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def hop_table(result: Mapping[str, Any]) -> str:
    """One stack rung's hops: the bots' view (server stamps in the frames) and the
    functions' own (probe log lines), p50 / p95 / p99 ms."""
    s = result["summary"]
    rows = ["| hop (what measures it) | p50 / p95 / p99 ms | n |", "|---|---|---|"]
    for name, d in {**s["score_hops_ms"], **s["leaderboard_hops_ms"]}.items():
        rows.append(f"| {name} (frame stamps) | {_triple(d)} | {int(d['n'])} |")
    for name, d in result.get("gateway_metrics", {}).items():
        rows.append(f"| {name} (gateway /metrics histogram) | {_triple(d)} | {int(d['n'])} |")
    for key, fields in result.get("probe", {}).items():
        for name, d in fields.items():
            rows.append(f"| {key} {name} (probe) | {_triple(d)} | {int(d['n'])} |")
    return "\n".join(rows)


def cpu_table(results: Sequence[Mapping[str, Any]]) -> str:
    stack_runs = sorted((r for r in results if r["system"] == STACK), key=lambda r: r["players"])
    if not stack_runs:
        return ""
    names = list(stack_runs[0]["cpu_pct"])
    rows = ["| players | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in stack_runs:
        rows.append(f"| {r['players']:,} | " + " | ".join(_fmt(r["cpu_pct"][n]) for n in names) + " |")
    return "\n".join(rows)


def verdict_lines(results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for v in verdicts(results):
        state = "not run" if v["pass"] is None else ("pass" if v["pass"] else "MISS")
        lines.append(f"{state:8} {v['target']} (measured {_fmt(v['value'])}) at {TARGET_PLAYERS:,} players")
    return lines


def markdown(results: Sequence[Mapping[str, Any]], notes: Sequence[str] = ()) -> str:
    parts = [
        "### Latency, players' view\n",
        latency_table(results),
        "\n### Stack ÷ socketio\n",
        ratio_table(results),
    ]
    parts += ["\n### CPU, % of one core, mean over the play phase\n", cpu_table(results)]
    biggest = max((r for r in results if r["system"] == STACK), key=lambda r: r["players"], default=None)
    target = rung(results, STACK, TARGET_PLAYERS) or biggest
    if target is not None:
        parts += [f"\n### Hops at {target['players']:,} players\n", hop_table(target)]
    parts += ["\n### Targets\n", "\n".join(f"- {line}" for line in verdict_lines(results))]
    if notes:
        parts += ["\n" + "\n".join(f"- {n}" for n in notes)]
    return "\n".join(parts) + "\n"
