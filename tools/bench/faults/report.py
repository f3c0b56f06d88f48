"""What a ledger run found: counts by name (and which of them must be 0), the faults it
injected, examples of each violation, and the table it prints."""

from __future__ import annotations

from dataclasses import dataclass, field

# Each answer acknowledged to a client scored exactly once, as both oracles say.
ANSWER_INVARIANTS = (
    "lost",
    "excused: an ERROR after the ACK its bot's clock does not back",
    "stored though received after the deadline + grace",
    "stored though sent after QUESTION_ENDED reached the player",
    "answers sent twice for one (player, question)",
    "duplicated",
    "unexpected",
    "document verdict != oracle",
    "final score != oracle(documents)",
    "final score != bots' SCORE_UPDATED",
    "bot verdict != stored verdict",
    "points outside the bot-clock oracle",
    "conflicting SCORE_UPDATED for one answer",
    "acknowledged, scored, no SCORE_UPDATED",
    "SESSION_ENDED standings != stored score",
    "no SESSION_ENDED",
)
# Each socket gets every event once, and each client every leaderboard version at most once,
# never an older one.
LEADERBOARD_INVARIANTS = (
    "event frame twice on one socket",
    "leaderboard version seen twice",
    "leaderboard version going back",
)
MUST_BE_ZERO = ANSWER_INVARIANTS + LEADERBOARD_INVARIANTS


@dataclass
class Report:
    sessions: int
    players: int
    questions: int
    counts: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    fault_kinds: dict[str, dict[str, int]] = field(default_factory=dict)  # chaos: kind -> counts
    fault_events: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    other_errors: dict[str, int] = field(default_factory=dict)
    tracebacks: dict[str, int] = field(default_factory=dict)
    score_latency_ms: dict[str, int] = field(default_factory=dict)  # answer sent -> SCORE_UPDATED
    seconds: float = 0.0

    def violations(self, keys: tuple[str, ...] = MUST_BE_ZERO) -> dict[str, int]:
        return {k: self.counts.get(k, 0) for k in keys if self.counts.get(k, 0)}

    def example(self, kind: str, text: str) -> None:
        self.examples.setdefault(kind, []).append(text)

    def table(self) -> str:
        lines = [
            f"ledger: {self.sessions} session(s), {self.players} players, {self.questions} questions each, "
            f"{self.seconds:.0f} s",
            f"{'':48}{'count':>8}",
        ]
        lines += [
            f"{k:48}{v:8}{'  <-- must be 0' if k in MUST_BE_ZERO and v else ''}"
            for k, v in self.counts.items()
        ]
        lines.append(f"answer -> own SCORE_UPDATED (ms): {self.score_latency_ms}")
        lines.append("faults injected")
        columns = ("fired", "seconds", "answers in flight", "players moved")
        lines.append(f"  {'':22}" + "".join(f"{c:>19}" for c in columns))
        lines += [
            f"  {kind:22}" + "".join(f"{row.get(c, 0):19}" for c in columns)
            for kind, row in sorted(self.fault_kinds.items())
        ]
        lines += [f"  {k:46}{v:8}" for k, v in self.faults.items()]
        lines += [f"  {e}" for e in self.fault_events]
        if self.other_errors:
            lines.append(f"other ERROR frames: {self.other_errors}")
        lines.append(f"tracebacks in logs: {self.tracebacks}")
        for kind, examples in self.examples.items():
            lines.append(f"examples of {kind}:")
            lines += [f"  {e[:400]}" for e in examples[:3]]
        return "\n".join(lines)
