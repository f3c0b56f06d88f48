"""The results as a table (stdout) and as JSON (artifacts/bench-gateway.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

IDLE_TARGET_KIB = 16.0
VS_BARE_TARGET = 0.9
VS_SOCKETIO_TARGET = 2.0
CPU_TARGET_PCT = 25.0

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
            Row(f"(a) idle, {sockets:,} sockets", "RSS delta per socket, KiB", idle, BASELINES[name], base,
                _ratio(idle, base), f"gateway <= {IDLE_TARGET_KIB:g} KiB",
                _verdict(None if idle is None else idle <= IDLE_TARGET_KIB))
        )
    sizes = sorted(int(k.removeprefix("fanout_")) for k in gw if k.startswith("fanout_"))
    for size in sizes:
        key = f"fanout_{size}"
        mine = gw[key]
        scenario = f"(b) fan-out to {size:,}"
        for name, target in (("bare-uvloop", VS_BARE_TARGET), ("bare-asyncio", VS_BARE_TARGET),
                             ("socketio", VS_SOCKETIO_TARGET)):
            other = results.get(name, {}).get(key)
            if other is None:
                continue
            ratio = _ratio(mine["frames_per_s"], other["frames_per_s"])
            rows.append(
                Row(scenario, f"frames/s at clients ({mine['messages']} msgs x {size:,})", mine["frames_per_s"],
                    BASELINES[name], other["frames_per_s"], ratio, f">= {target:g}x",
                    _verdict(None if ratio is None else ratio >= target))
            )
        other = results.get("bare-uvloop", {}).get(key)
        if other is not None:
            a, b = mine["one_event_to_last_ms_median"], other["one_event_to_last_ms_median"]
            rows.append(
                Row(scenario, "one event: send -> last socket, ms (median)", a, BASELINES["bare-uvloop"], b,
                    _ratio(a, b), "info (gateway includes Pub/Sub)", "info")
            )
    load = gw.get("cloud_run")
    if load:
        scenario = f"(c) {load['sockets']:,} sockets, {load['sessions']} sessions"
        cpu = load["gateway_cpu_pct"]
        rows.append(
            Row(scenario, f"gateway CPU, % of one core ({load['leaderboards_per_s_per_session']:g} boards/s/session)",
                cpu, "-", None, None, f"<= {CPU_TARGET_PCT:g} %", _verdict(cpu <= CPU_TARGET_PCT))
        )
        rows.append(
            Row(scenario, "leaderboard frames/s per socket delivered", load["frames_per_s_per_socket"], "-", None,
                None, f"info (offered {load['leaderboards_per_s_per_session']:g})", "info")
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
        [r.scenario, r.metric, _fmt(r.gateway), r.baseline, _fmt(r.baseline_value),
         "-" if r.ratio is None else f"{r.ratio:.2f}x", r.target, r.result]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(lines)


def write_json(path: Path, rows: list[Row], results: dict[str, Any], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"meta": meta, "rows": [asdict(r) for r in rows], "results": results}
    path.write_text(json.dumps(document, indent=2) + "\n")
