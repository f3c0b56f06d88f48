"""The bench's arithmetic, pure: percentiles, what a swarm measured turned into latency
and per-hop distributions, frame rates, Prometheus histogram quantiles, and what one
answer cost (function invocations, Firestore RPCs, CPU)."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

QUANTILES = (50, 95, 99)


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest rank on the sorted values (the smallest value with at least q % of the
    values at or below it); NaN when there are none."""
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def distribution(values: Iterable[float]) -> dict[str, float]:
    kept = [v for v in values if not math.isnan(v)]
    out: dict[str, float] = {"n": len(kept)}
    for q in QUANTILES:
        out[f"p{q}"] = round(percentile(kept, q), 1)
    out["max"] = round(max(kept), 1) if kept else math.nan
    return out


def max_in_window(times: Iterable[float], window_s: float = 1.0) -> int:
    """The most events any window of `window_s` (starting at an event) holds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _ms(later: float, earlier: float) -> float:
    return (later - earlier) * 1000


def summarise_swarm(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Latencies and hops from what the bots stamped (wall clock, one machine).

    A row holds the bot's own times in seconds (sent, ack_at, score_at, board_at) and the
    servers' stamps in ms: received_ms (gateway receive = question start + time taken),
    ack_ts_ms (the gateway's ACK, sent once Pub/Sub stored the frame), score_ts_ms (the
    SCORE_UPDATED frame, built by on_command right after its transaction committed),
    board_ts_ms (the LEADERBOARD_UPDATED frame, built by the flush)."""
    rows = raw["answers"]
    scored = [r for r in rows if not math.isnan(r["score_at"])]
    starts: defaultdict[tuple[str, int], list[float]] = defaultdict(list)
    for session, index, at in raw["starts"]:
        starts[(session, index)].append(at)
    boards: defaultdict[str, list[float]] = defaultdict(list)
    for session, _version, at in raw["boards"]:
        boards[session].append(at)
    per_session_max = [max_in_window(times) for times in boards.values()]
    return {
        "answers": len(rows),
        "scored": len(scored),
        "answer_to_ack_ms": distribution(_ms(r["ack_at"], r["sent"]) for r in rows),
        "answer_to_score_ms": distribution(_ms(r["score_at"], r["sent"]) for r in rows),
        "answer_to_leaderboard_ms": distribution(_ms(r["board_at"], r["sent"]) for r in rows),
        "question_start_skew_ms": distribution(_ms(max(a), min(a)) for a in starts.values()),
        "leaderboard_frames_per_session_s_max": max(per_session_max, default=0),
        "score_hops_ms": {
            "client -> server receive": distribution(r["received_ms"] - r["sent"] * 1000 for r in rows),
            "receive -> ACK stamped": distribution(r["ack_ts_ms"] - r["received_ms"] for r in rows),
            "ACK stamped -> score committed": distribution(r["score_ts_ms"] - r["ack_ts_ms"] for r in rows),
            "score committed -> player": distribution(r["score_at"] * 1000 - r["score_ts_ms"] for r in rows),
        },
        "leaderboard_hops_ms": {
            "score committed -> board built": distribution(r["board_ts_ms"] - r["score_ts_ms"] for r in rows),
            "board built -> player": distribution(r["board_at"] * 1000 - r["board_ts_ms"] for r in rows),
        },
        "errors": dict(raw.get("errors", {})),
    }


# -- probe logs and Prometheus histograms ------------------------------------------------


def summarise_probe(lines: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """The functions' own hop timings (tools/bench/e2e/probe.py log lines), per function and
    kind: every numeric field ending in _ms becomes a distribution."""
    fields: defaultdict[str, defaultdict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in lines:
        key = f"{line.get('fn')}:{line.get('kind')}"
        for name, value in line.items():
            if name.endswith("_ms") and isinstance(value, int | float):
                fields[key][name].append(float(value))
    return {
        key: {name: distribution(v) for name, v in sorted(f.items())} for key, f in sorted(fields.items())
    }


_BUCKET = re.compile(r'^(\w+)_bucket\{(?:[^}]*,)?le="([^"]+)"[^}]*\}\s+([0-9.e+-]+)$')


def histogram_buckets(text: str, metric: str) -> dict[float, float]:
    """Cumulative bucket counts (upper bound in s -> count) of one Prometheus histogram."""
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        match = _BUCKET.match(line)
        if match and match.group(1) == metric:
            le = math.inf if match.group(2) == "+Inf" else float(match.group(2))
            buckets[le] = buckets.get(le, 0.0) + float(match.group(3))
    return buckets


def histogram_quantiles(before: Mapping[float, float], after: Mapping[float, float]) -> dict[str, float]:
    """p50/p95/p99 in ms of what was observed between two scrapes, interpolated within
    buckets as Prometheus' histogram_quantile does (the top bucket's bound caps it)."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    out: dict[str, float] = {"n": total}
    for q in QUANTILES:
        if total <= 0:
            out[f"p{q}"] = math.nan
            continue
        rank = q / 100 * total
        i = next(i for i, c in enumerate(counts) if c >= rank)
        upper = bounds[i]
        lower = bounds[i - 1] if i else 0.0
        if math.isinf(upper):
            out[f"p{q}"] = round(lower * 1000, 1)
            continue
        below = counts[i - 1] if i else 0.0
        share = (rank - below) / (counts[i] - below) if counts[i] > below else 1.0
        out[f"p{q}"] = round((lower + (upper - lower) * share) * 1000, 1)
    return out


def in_flight(lines: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Per function, how many calls ran at once: the most, and on average while any ran
    (a push subscription that delivers one message at a time shows 1)."""
    spans: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)
    for line in lines:
        if isinstance(line.get("began_at"), int | float) and isinstance(line.get("total_ms"), int | float):
            spans[str(line["fn"])].append((line["began_at"], line["began_at"] + line["total_ms"]))
    out = {}
    for fn, pairs in sorted(spans.items()):
        edges = sorted([(a, 1) for a, _ in pairs] + [(b, -1) for _, b in pairs])
        now = most = 0
        busy = running = 0.0
        last = edges[0][0]
        for t, step in edges:
            if now:
                busy += t - last
                running += now * (t - last)
            now += step
            most = max(most, now)
            last = t
        out[fn] = {"max": most, "mean_while_busy": round(running / busy, 2) if busy else 0.0}
    return out


# -- cost per answer ---------------------------------------------------------------------

# The Python processes the project wrote (every stack process group but these: the
# emulators' JVMs and the Auth emulator's node).
NOT_OWN_PYTHON = frozenset({"firestore", "pubsub", "auth"})


# What each "invocation" line counts of Firestore (vocabquiz/adapters/rpcs.py).
FIRESTORE_COUNTS = ("firestore_rpcs", "firestore_reads", "firestore_writes")


def count_invocations(
    lines: Iterable[Mapping[str, Any]], functions: Iterable[str] = ()
) -> dict[str, dict[str, int | None]]:
    """Per function, from its "invocation" log lines: how many, and the Firestore RPCs,
    document reads and writes they counted (`uncounted`: lines whose RPC count was null;
    a sum is None when no line counted it). `functions` come first, in their order,
    listed at 0 when they logged nothing."""
    invocations: Counter[str] = Counter()
    uncounted: Counter[str] = Counter()
    sums: dict[tuple[str, str], int] = {}
    for line in lines:
        fn = str(line.get("function"))
        invocations[fn] += 1
        for key in FIRESTORE_COUNTS:
            value = line.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                sums[(fn, key)] = sums.get((fn, key), 0) + value
            elif key == "firestore_rpcs":
                uncounted[fn] += 1
    return {
        fn: {
            "invocations": invocations[fn],
            **{key: sums.get((fn, key), None if uncounted[fn] else 0) for key in FIRESTORE_COUNTS},
            "uncounted": uncounted[fn],
        }
        for fn in [*functions, *sorted(set(invocations) - set(functions))]
    }


def _sum(values: Iterable[float | None]) -> float | None:
    """The sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _per(value: float | None, answers: int, digits: int) -> float | None:
    return None if value is None or answers <= 0 else round(value / answers, digits)


def per_answer_counts(
    counts: Mapping[str, Mapping[str, int | None]], key: str, answers: int
) -> dict[str, float | None]:
    """One count (`invocations`, `firestore_rpcs`, ...) of each function per answer, and the total."""
    values = {fn: c[key] for fn, c in counts.items()}
    totals = {**values, "total": _sum(values.values())}
    return {name: _per(v, answers, 4) for name, v in totals.items()}


def cpu_deltas(
    before: Mapping[str, float], after: Mapping[str, float], names: Iterable[str]
) -> dict[str, float]:
    """CPU-seconds each named process group spent between two readings (never below 0: a
    restarted process takes its count with it)."""
    return {name: max(0.0, after.get(name, 0.0) - before.get(name, 0.0)) for name in names}


def cpu_ms_per_answer(spent_s: Mapping[str, float], answers: int) -> dict[str, float | None]:
    """CPU-ms per answer of each process group (`spent_s`: CPU-seconds of every stack
    group, nothing else), of the whole stack, and of the project's own Python processes."""
    totals = {
        **spent_s,
        "stack_total": sum(spent_s.values()),
        "own_python_total": sum(v for k, v in spent_s.items() if k not in NOT_OWN_PYTHON),
    }
    return {name: _per(seconds * 1000, answers, 2) for name, seconds in totals.items()}


def per_answer(
    counts: Mapping[str, Mapping[str, int | None]], spent_s: Mapping[str, float], answers: int
) -> dict[str, Any]:
    """What one answer cost the stack over a rung: function invocations, Firestore RPCs
    (from the functions' "invocation" lines) and CPU-ms per process group, each divided by
    the answers the bots sent."""
    return {
        "answers": answers,
        "answers_are": "sent",
        "invocations": per_answer_counts(counts, "invocations", answers),
        **{key: per_answer_counts(counts, key, answers) for key in FIRESTORE_COUNTS},
        "cpu_ms": cpu_ms_per_answer(spent_s, answers),
    }
