"""A Jepsen-style ledger run: bots answer many questions while faults are injected, then a
checker reads Firestore directly and proves that every answer acknowledged to a client
was scored exactly once or its player told it came too late, and that every score
matches an independent oracle.

    python -m bench.faults --answers 10000        # starts its own local stack
    python -m bench.faults --answers 300 --players 15 --json ledger.json

The close race: one question in ten is answered around its deadline + grace, one in ten
around an early reveal by the host, by players on gateways whose clocks are skewed.

Faults fired at seeded random points, one after another (chaos.py; --chaos picks):
on_command SIGKILLed; Firestore, Pub/Sub or Cloud Tasks frozen (SIGSTOP) for a while; a
gateway SIGKILLed with commands in flight, drained (SIGTERM), paused, or made deaf (its
quiz-events subscription deleted); players' sockets dropped, REJOINing elsewhere at once.

Faults all along: every command published 2 more times and every event once more (copies
at once, late, out of order: duplicator.py); flush and timer tasks copied, close timers
lost (background.py); through QUIZ_FAULTS (vocabquiz/faults.py): on_command answering
500 after its work committed, commits applied whose replies are lost (every function),
publishes stored whose replies are lost (the ledger's gateways; players resend after
2 s without an ACK), server clocks skewed (gateways, host API, timers); on_command on
two worker processes (instances judging side by side).

The parts: `options` (the knobs, the kinds of question), `players` (the bots and the
record of what each was told), `duplicator`, `background` and `chaos` (the injectors),
`ledger` (the run: a host, its players, gateways and injectors on one stack), `store`
(Firestore as the run seeds and reads it), `checker` (the oracles), `report` (the
counts, and which must be 0).
"""

from bench.faults.ledger import count_in_logs, run_ledger
from bench.faults.options import Options
from bench.faults.report import ANSWER_INVARIANTS, LEADERBOARD_INVARIANTS, MUST_BE_ZERO, Report

__all__ = [
    "ANSWER_INVARIANTS",
    "LEADERBOARD_INVARIANTS",
    "MUST_BE_ZERO",
    "Options",
    "Report",
    "count_in_logs",
    "run_ledger",
]
