"""A Jepsen-style ledger run: bots answer many questions while faults are injected, then a
checker reads Firestore directly and proves that every answer acknowledged to a client
was scored exactly once, and that every score matches an independent oracle.

    python -m bench.faults --answers 10000        # starts its own local stack
    python -m bench.faults --answers 300 --players 25 --json ledger.json

Faults, all at once:
- every command published 2 more times (new Pub/Sub message ids, same data and
  attributes): a pull subscription on quiz-commands sees each command and the ledger
  re-publishes it, one copy at once (a parallel delivery), one after a random delay, a
  few long after their question closed;
- on_command answers 500 after its work committed (QUIZ_FAULTS=fail_after_commit=P, see
  vocabquiz/service/faults.py), so Pub/Sub delivers again;
- flush tasks delivered twice: pending flush tasks are copied under another name with the
  same body, and flush_leaderboard is called directly, twice, for a recent window;
- the on_command process group SIGKILLed mid-run and restarted;
- the Firestore and the Pub/Sub emulators frozen (SIGSTOP ... SIGCONT) for a few seconds;
- a gateway SIGKILLed: its players reconnect to another instance, REJOIN, and resend
  every frame not yet acknowledged (same message_id), and every answer whose score they
  have not seen.

The parts: `options` (the knobs and the command line), `players` (the bots and the record
of what each was told), `duplicator` and `chaos` (the injectors), `ledger` (the run: a
host, its players and the injectors on one stack), `store` (Firestore as the run seeds and
reads it), `checker` (the oracles), `report` (the counts, and which must be 0).
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
