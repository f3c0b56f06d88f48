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

# (label, group in a stack rung's per_answer, key, limit), judged on every stack rung whose
# sessions hold at least COST_PLAYERS_PER_SESSION players (fixed costs dominate smaller ones).
COST_TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("<= 8 CPU-ms per answer, whole stack", "cpu_ms", "stack_total", 8),
    ("<= 3 CPU-ms per answer, own Python processes", "cpu_ms", "own_python_total", 3),
    ("<= 0.1 function invocations per answer", "invocations", "total", 0.1),
    ("<= 0.3 Firestore RPCs per answer", "firestore_rpcs", "total", 0.3),
)
COST_PLAYERS_PER_SESSION = 250


def _fmt(value: float | None, digits: int = 0) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"
    )


def _figure(value: float | None) -> str:
    """A measurement at its scale: whole from 10 up (8,369), three significant digits
    below (0.0433, 2.5)."""
    if value is None or math.isnan(value) or abs(value) >= 10:
        return _fmt(value)
    return f"{value:.3g}"


def rung(results: Sequence[Mapping[str, Any]], system: str, players: int) -> Mapping[str, Any] | None:
    return next((r for r in results if r["system"] == system and r["players"] == players), None)


def verdicts(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target: its value on the stack and pass/miss (None: not run). Latency targets
    at TARGET_PLAYERS; cost targets on each rung with full sessions (`players` None: none)."""
    at = rung(results, STACK, TARGET_PLAYERS)
    out = []
    for label, key, q, limit in TARGETS:
        value = at["summary"][key][q] if at else math.nan
        out.append(_verdict(label, value, limit, TARGET_PLAYERS))
    boards = at["summary"]["leaderboard_frames_per_session_s_max"] if at else math.nan
    out.append(
        {
            "target": f"<= {MAX_BOARDS_PER_S} leaderboard frames per session per second",
            "value": boards,
            "pass": None if at is None else boards <= MAX_BOARDS_PER_S,
            "players": TARGET_PLAYERS,
        }
    )
    return out + cost_verdicts(results)


def _verdict(label: str, value: float, limit: float, players: int | None) -> dict[str, Any]:
    return {
        "target": label,
        "value": value,
        "pass": None if math.isnan(value) else value <= limit,
        "players": players,
    }


def full_session_rungs(results: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The stack rungs whose sessions hold COST_PLAYERS_PER_SESSION players or more."""
    runs = (r for r in results if r["system"] == STACK)
    return sorted(
        (r for r in runs if r["players"] >= COST_PLAYERS_PER_SESSION * r["sessions"]),
        key=lambda r: r["players"],
    )


def cost_value(result: Mapping[str, Any], group: str, key: str) -> float:
    """One figure of a rung's per_answer; NaN when it was not measured."""
    value = result.get("per_answer", {}).get(group, {}).get(key)
    return math.nan if value is None else float(value)


def cost_verdicts(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    runs = full_session_rungs(results)
    out = []
    for label, group, key, limit in COST_TARGETS:
        out += [_verdict(label, cost_value(r, group, key), limit, r["players"]) for r in runs]
        if not runs:
            out.append(_verdict(label, math.nan, limit, None))
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


def _functions(per_answer: Mapping[str, Any]) -> list[str]:
    return [fn for fn in per_answer.get("invocations", {}) if fn != "total"]


def _split(counts: Mapping[str, float | None], names: Sequence[str]) -> str:
    """'total (a / b / c)' of one per-answer count."""
    return f"{_figure(counts.get('total'))} (" + " / ".join(_figure(counts.get(n)) for n in names) + ")"


def cost_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Per stack rung, what one answer cost: invocations and Firestore RPCs (total, then
    per function), CPU-ms of the whole stack and of the project's own Python processes."""
    runs = sorted((r for r in results if "per_answer" in r), key=lambda r: r["players"])
    if not runs:
        return ""
    names = " / ".join(_functions(runs[0]["per_answer"]))
    rows = [
        f"| players (sessions) | answers sent | invocations per answer: total ({names}) "
        f"| Firestore RPCs per answer: total ({names}) | Firestore document reads / writes per answer "
        "| CPU-ms per answer: whole stack | CPU-ms per answer: own Python |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        cost, fns = r["per_answer"], _functions(r["per_answer"])
        rows.append(
            f"| {r['players']:,} ({r['sessions']}) | {cost['answers']:,} "
            f"| {_split(cost['invocations'], fns)} | {_split(cost['firestore_rpcs'], fns)} "
            f"| {_reads_writes(cost)} "
            f"| {_fmt(cost['cpu_ms']['stack_total'], 1)} | {_fmt(cost['cpu_ms']['own_python_total'], 1)} |"
        )
    return "\n".join(rows)


def _reads_writes(cost: Mapping[str, Any]) -> str:
    reads, writes = cost.get("firestore_reads") or {}, cost.get("firestore_writes") or {}
    return f"{_fmt(reads.get('total'), 2)} / {_fmt(writes.get('total'), 2)}"


def cpu_ms_table(results: Sequence[Mapping[str, Any]]) -> str:
    """CPU-ms per answer of each stack process group, per stack rung."""
    runs = sorted((r for r in results if "per_answer" in r), key=lambda r: r["players"])
    if not runs:
        return ""
    names = list(runs[0]["per_answer"]["cpu_ms"])
    rows = ["| players | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in runs:
        cpu = r["per_answer"]["cpu_ms"]
        rows.append(f"| {r['players']:,} | " + " | ".join(_fmt(cpu.get(n), 1) for n in names) + " |")
    return "\n".join(rows)


def cost_lines(result: Mapping[str, Any]) -> list[str]:
    """A stack rung's cost per answer in two lines, for the progress output."""
    cost = result.get("per_answer")
    if cost is None:
        return []
    fns = _functions(cost)
    cpu = cost["cpu_ms"]
    groups = ", ".join(
        f"{k} {_fmt(v, 1)}" for k, v in cpu.items() if k not in ("stack_total", "own_python_total")
    )
    return [
        f"per answer ({cost['answers']:,} sent): invocations {_named(cost['invocations'], fns)};"
        f" Firestore RPCs {_named(cost['firestore_rpcs'], fns)}; document reads / writes"
        f" {_reads_writes(cost)}",
        f"CPU-ms per answer: whole stack {_fmt(cpu['stack_total'], 1)}, own Python"
        f" {_fmt(cpu['own_python_total'], 1)} ({groups})",
    ]


def _named(counts: Mapping[str, float | None], names: Sequence[str]) -> str:
    """'total (a x, b y)' of one per-answer count."""
    return (
        f"{_figure(counts.get('total'))} (" + ", ".join(f"{n} {_figure(counts.get(n))}" for n in names) + ")"
    )


def verdict_lines(results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for v in verdicts(results):
        state = "not run" if v["pass"] is None else ("pass" if v["pass"] else "MISS")
        where = (
            f"at {v['players']:,} players"
            if v["players"] is not None
            else f"(no stack rung with {COST_PLAYERS_PER_SESSION} players per session)"
        )
        lines.append(f"{state:8} {v['target']} (measured {_figure(v['value'])}) {where}")
    return lines


def markdown(results: Sequence[Mapping[str, Any]], notes: Sequence[str] = ()) -> str:
    parts = [
        "### Latency, players' view\n",
        latency_table(results),
        "\n### Stack ÷ socketio\n",
        ratio_table(results),
    ]
    parts += ["\n### CPU, % of one core, mean over the play phase\n", cpu_table(results)]
    if any("per_answer" in r for r in results):
        parts += [
            "\n### Cost per answer (stack, play phase, per answer sent)\n",
            cost_table(results),
            "\n### CPU-ms per answer by process group (stack)\n",
            cpu_ms_table(results),
        ]
    biggest = max((r for r in results if r["system"] == STACK), key=lambda r: r["players"], default=None)
    target = rung(results, STACK, TARGET_PLAYERS) or biggest
    if target is not None:
        parts += [f"\n### Hops at {target['players']:,} players\n", hop_table(target)]
    parts += ["\n### Targets\n", "\n".join(f"- {line}" for line in verdict_lines(results))]
    if notes:
        parts += ["\n" + "\n".join(f"- {n}" for n in notes)]
    return "\n".join(parts) + "\n"
