"""The results as a table (stdout) and as JSON (artifacts/bench-gateway.json)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

IDLE_TARGET_KIB = 16.0
VS_BARE_TARGET = 0.9
VS_SOCKETIO_TARGET = 2.0
CPU_TARGET_PCT = 25.0
MIN_DELIVERED = 0.8  # (c): share of the offered boards that must reach the sockets for a verdict

BASELINES = {
    "bare-uvloop": "bare websockets, uvloop",
    "bare-asyncio": "bare websockets, asyncio",
    "socketio": "python-socketio (aiohttp)",
}


@dataclass
class Row:
    scenario: str
    metric: str
    gateway: float | None
    baseline: str
    baseline_value: float | None
    ratio: float | None
    target: str
    result: str  # pass / FAIL / info / n/a


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("pass" if ok else "FAIL")


def build_rows(results: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    gw = results.get("gateway", {})
    idle = gw.get("idle", {}).get("kib_per_socket")
    sockets = gw.get("idle", {}).get("connected", 0)
    for name in ("bare-uvloop", "bare-asyncio"):
        base = results.get(name, {}).get("idle", {}).get("kib_per_socket")
        if idle is None and base is None:
            continue
        rows.append(
            Row(
                f"(a) idle, {sockets:,} sockets",
                "RSS delta per socket, KiB",
                idle,
                BASELINES[name],
                base,
                _ratio(idle, base),
                f"gateway <= {IDLE_TARGET_KIB:g} KiB",
                _verdict(None if idle is None else idle <= IDLE_TARGET_KIB),
            )
        )
    sizes = sorted(int(k.removeprefix("fanout_")) for k in gw if k.startswith("fanout_"))
    idle_cpu = gw.get("idle_cpu")
    if idle_cpu:
        for name in ("bare-uvloop", "socketio"):
            other = results.get(name, {}).get("idle_cpu")
            if other:
                rows.append(
                    Row(
                        f"(b) {idle_cpu['sockets']:,} sockets open, idle",
                        "server CPU, % of one core",
                        idle_cpu["server_cpu_pct"],
                        BASELINES[name],
                        other["server_cpu_pct"],
                        _ratio(idle_cpu["server_cpu_pct"], other["server_cpu_pct"]),
                        "info",
                        "info",
                    )
                )
    for size in sizes:
        rows += _fanout_rows(results, size)
    rows += _cloud_run_rows(gw, results.get("bare-uvloop", {}).get("cloud_run"))
    return rows


def paired_ratio(mine: list[float | None], other: list[float | None]) -> float | None:
    """Median of run-by-run ratios: the servers took turns, so run k of each saw about
    the same load on the machine."""
    ratios = [a / b for a, b in zip(mine, other, strict=False) if a and b]
    return statistics.median(ratios) if ratios else None


def _fanout_rows(results: dict[str, dict[str, Any]], size: int) -> list[Row]:
    rows: list[Row] = []
    key = f"fanout_{size}"
    mine = results["gateway"][key]
    scenario = f"(b) fan-out to {size:,}"
    metrics = (
        ("frames_per_s", f"frames/s at clients ({mine['messages']} msgs x {size:,})"),
        ("frames_per_server_cpu_s", "frames per server CPU-second (load-independent)"),
    )
    for field, label in metrics:
        for name, target in (
            ("bare-uvloop", VS_BARE_TARGET),
            ("bare-asyncio", VS_BARE_TARGET),
            ("socketio", VS_SOCKETIO_TARGET),
        ):
            other = results.get(name, {}).get(key)
            if other is None:
                continue
            ratio = paired_ratio([r[field] for r in mine["runs"]], [r[field] for r in other["runs"]])
            complete = mine["delivered_fraction"] == 1 and other["delivered_fraction"] == 1
            rows.append(
                Row(
                    scenario,
                    label,
                    mine[field],
                    BASELINES[name],
                    other[field],
                    ratio,
                    f">= {target:g}x",
                    _verdict(None if ratio is None else ratio >= target) if complete else "void: frames lost",
                )
            )
    other = results.get("bare-uvloop", {}).get(key)
    if other is not None:
        a, b = mine["one_event_to_last_ms_median"], other["one_event_to_last_ms_median"]
        rows.append(
            Row(
                scenario,
                "one event: send -> last socket, ms (median)",
                a,
                BASELINES["bare-uvloop"],
                b,
                _ratio(a, b),
                "info (gateway: via Pub/Sub)",
                "info",
            )
        )
    return rows


def _cloud_run_rows(gw: dict[str, Any], bare: dict[str, Any] | None) -> list[Row]:
    load = gw.get("cloud_run")
    if not load:
        return []
    scenario = f"(c) {load['sockets_in_sessions']:,} sockets, {load['sessions']} sessions"
    cpu = load["gateway_cpu_pct"]
    offered = load["leaderboards_per_s_per_session"]
    delivered = load["frames_per_s_per_socket"]
    # Too few boards delivered (a starved machine, an emulator that bunches them) flatters
    # the gateway: a pass then is no verdict (a fail still is: more boards cost more).
    enough = delivered >= MIN_DELIVERED * offered or cpu > CPU_TARGET_PCT
    rows = [
        Row(
            scenario,
            f"gateway CPU, % of one core ({offered:g} boards/s/session offered)",
            cpu,
            "-",
            None,
            None,
            f"<= {CPU_TARGET_PCT:g} %",
            _verdict(cpu <= CPU_TARGET_PCT) if enough else f"void: < {MIN_DELIVERED:.0%} delivered",
        ),
        Row(
            scenario,
            "leaderboard frames/s per socket delivered",
            delivered,
            "-",
            None,
            None,
            f"info (offered {offered:g}; paced <= 1 per 100 ms)",
            "info",
        ),
    ]
    alone = gw.get("cloud_run_receive_only")
    if alone:
        receive = alone["gateway_cpu_pct"]
        rows.append(
            Row(
                scenario,
                "  part of it: receiving the events (no socket in the sessions)",
                receive,
                "-",
                None,
                None,
                "info",
                "info",
            )
        )
        if delivered:
            # Receiving scales with events published, sending with boards delivered.
            projected = receive + (cpu - receive) * offered / delivered
            rows.append(
                Row(
                    scenario,
                    f"  projected CPU if all {offered:g} boards/s were delivered",
                    projected,
                    "-",
                    None,
                    None,
                    f"info (<= {CPU_TARGET_PCT:g} %)",
                    "info",
                )
            )
            if bare and bare["frames_per_s"]:
                # Per 1,000 frames/s delivered: the gateway's sending (its CPU less the
                # receiving) against the bare server sending the same boards from memory.
                per_k = 1000 * (cpu - receive) / load["frames_per_s"]
                bare_per_k = 1000 * bare["server_cpu_pct"] / bare["frames_per_s"]
                rows.append(
                    Row(
                        scenario,
                        "  sending: CPU % per 1,000 frames/s (bare: same boards, from memory)",
                        per_k,
                        BASELINES["bare-uvloop"],
                        bare_per_k,
                        _ratio(per_k, bare_per_k),
                        "info",
                        "info",
                    )
                )
                rows.append(
                    Row(
                        scenario,
                        f"  bare websockets sending all {offered:g} boards/s (no receiving)",
                        projected,
                        BASELINES["bare-uvloop"],
                        bare_per_k * offered * load["sockets_in_sessions"] / 1000,
                        None,
                        "info (the floor of sending alone)",
                        "info",
                    )
                )
    return rows


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def table(rows: list[Row]) -> str:
    header = ["scenario", "metric", "gateway", "baseline", "baseline value", "ratio", "target", "result"]
    cells = [
        [
            r.scenario,
            r.metric,
            _fmt(r.gateway),
            r.baseline,
            _fmt(r.baseline_value),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            r.result,
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def load_note(results: dict[str, dict[str, Any]]) -> str:
    """How much CPU the servers got during (b): others' work on the machine shows here."""
    shares = [
        run["server_cpu_pct"]
        for server in results.values()
        for key, value in server.items()
        if key.startswith("fanout_")
        for run in value["runs"]
    ]
    if not shares:
        return ""
    median = statistics.median(shares)
    note = f"(b) servers got a median {median:.0f} % of a core while saturated"
    if median < 80:
        note += (
            ": the machine was busy with other work, so trust the paired and per-CPU-second"
            " ratios over the absolute frames/s"
        )
    return note


def write_json(path: Path, rows: list[Row], results: dict[str, Any], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "rows": [asdict(r) for r in rows], "results": results}
    path.write_text(json.dumps(document, indent=2) + "\n")
