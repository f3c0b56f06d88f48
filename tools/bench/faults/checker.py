"""The checker: after the run, what the bots were told against what Firestore holds and
against two oracles (the scoring rule written out here, and each bot's own clock).

The close race is judged by what each bot saw on its own clock: an answer whose first
ACK came before the question closed (deadline + grace, or the reveal) was received in
time and must be stored; one sent after its QUESTION_ENDED reached the bot must not be.
Server clocks may be off by `skew_ms` (injected), which is the only slack allowed."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from bench.faults.duplicator import Duplicator
from bench.faults.options import NORMAL, RIGHT
from bench.faults.players import AnswerRecord, Bot
from bench.faults.report import Report
from bench.faults.store import Stored, read_stored
from vocabquiz.domain.model import Timing

Records = dict[tuple[str, str, str], AnswerRecord]  # (uid, session, question) -> what a bot sent

# The README's rule: an answer the gateway received up to this long after the deadline counts.
GRACE_MS = 500
CLOCK_SLACK_MS = 30  # one machine's clock, read by different processes


def oracle_points(is_correct: bool, time_taken_ms: int) -> int:
    """The scoring rule, written out independently of quiz.scoring (10 points a question)."""
    return 10 + max(0, 5 - time_taken_ms // 2000) if is_correct else 0


def check(
    sessions: list[str], bots: list[Bot], questions: int, duplicator: Duplicator | None, skew_ms: int = 0
) -> Report:
    report = Report(sessions=len(sessions), players=len(bots), questions=questions)
    sent = [r for b in bots for r in b.records.values()]
    records: Records = {(r.uid, r.session_id, r.question_id): r for r in sent}
    counts = report.counts
    counts["answers sent"] = len(sent)
    counts["answers sent twice for one (player, question)"] = len(sent) - len(records)
    counts["acknowledged"] = sum(r.acked for r in records.values())
    counts["resent after reconnect (ACK lost or score unseen)"] = sum(r.resent > 0 for r in records.values())
    if duplicator is not None:
        counts["  ... of which published by both gateways"] = sum(
            len(duplicator.connections.get(r.message_id, ())) > 1 for r in records.values()
        )
    counts["in doubt (never acknowledged)"] = sum(not r.acked for r in records.values())
    counts["refused with ERROR"] = sum(r.error is not None for r in records.values())
    stored = read_stored(sessions)
    counts["answer documents"] = sum(stored.doc_counts.values())

    ended = {(b.session_id, i): at for b in bots for i, at in b.question_ended_at.items()}
    answers = _check_answers(report, records, stored, skew_ms + CLOCK_SLACK_MS, ended)
    scores = _check_scores(report, bots, stored)
    for name, found in (
        ("lost", answers),
        ("excused: an ERROR after the ACK its bot's clock does not back", answers),
        ("acknowledged, then refused as received too late", answers),
        ("close race: scored", answers),
        ("close race: told QUESTION_CLOSED", answers),
        ("stored though received after the deadline + grace", answers),
        ("stored though sent after QUESTION_ENDED reached the player", answers),
        ("duplicated", scores),
        ("unexpected", answers),
        ("in doubt, scored once", answers),
        ("document verdict != oracle", answers),
        ("final score != oracle(documents)", scores),
        ("final score != bots' SCORE_UPDATED", scores),
        ("bot verdict != stored verdict", answers),
        ("points outside the bot-clock oracle", answers),
        ("conflicting SCORE_UPDATED for one answer", answers),
        ("acknowledged, scored, no SCORE_UPDATED", answers),
        ("SESSION_ENDED standings != stored score", scores),
        ("no SESSION_ENDED", scores),
    ):
        counts[name] = found[name]
    _check_versions(counts, bots)
    repeats = [(b, key, n) for b in bots for key, n in b.frame_ids.items() if n > 1]
    counts["event frame twice on one socket"] = sum(n - 1 for _, _, n in repeats)
    for bot, key, n in repeats[:5]:
        report.example("event twice", f"{bot.uid} {key} x{n}")
    counts["SCORE_UPDATED repeats (same message_id)"] = answers["repeats"]
    counts["SCORE_UPDATED new_score lower than one seen before"] = sum(
        sum(1 for i, score in enumerate(b.new_scores) if score < max(b.new_scores[:i], default=0))
        for b in bots
    )
    counts["bots reconnected"] = sum(b.reconnects > 0 for b in bots)
    counts["QUESTION_STARTED never reached a player (a later one did)"] = sum(len(b.skipped) for b in bots)
    for bot in [b for b in bots if b.skipped][:5]:
        report.example(
            "question start missed",
            f"{bot.uid} in {bot.session_id}: {bot.skipped}, reconnects {bot.reconnects}",
        )
    latencies = sorted(r.scored_after_ms for r in records.values() if r.scored_after_ms is not None)
    for q in (50, 95, 99):
        report.score_latency_ms[f"p{q}"] = (
            round(latencies[min(len(latencies) - 1, len(latencies) * q // 100)]) if latencies else -1
        )
    report.score_latency_ms["max"] = round(latencies[-1]) if latencies else -1
    return report


def _closes_ms(timing: Timing | None) -> float:
    """When a question closed, on the server's clock: the deadline + grace, or its reveal."""
    if timing is None:
        return float("inf")
    return min(timing.deadline_ms + GRACE_MS, timing.revealed_at_ms or float("inf"))


def _check_answers(
    report: Report, records: Records, stored: Stored, slack_ms: int, ended: dict[tuple[str, int], int]
) -> Counter[str]:
    """Each answer a bot sent against its document, and each document against the oracle."""
    found: Counter[str] = Counter()
    docs = stored.docs
    for key, record in records.items():
        doc = docs.get(key)
        matches = doc is not None and doc.get("message_id") == f"{record.uid}/{record.message_id}"
        timing = stored.timings.get((record.session_id, record.question_id))
        if record.kind != NORMAL and record.acked:
            found["close race: scored" if matches else "close race: told QUESTION_CLOSED"] += 1
        if record.acked and not matches:
            # Told it was received, and not stored: lost, whatever ERROR followed, unless
            # the player was told QUESTION_CLOSED and its first ACK came after the close
            # (so the gateway may have received every copy after it; a copy received
            # before the close that died with a gateway was never acknowledged).
            late = record.error == "QUESTION_CLOSED" and record.acked_at_ms >= _closes_ms(timing) - slack_ms
            found["acknowledged, then refused as received too late" if late else "lost"] += 1
            if record.error is not None and not late:
                found["excused: an ERROR after the ACK its bot's clock does not back"] += 1
            report.example("refused as late" if late else "lost", _describe(record, doc))
        if matches and doc is not None:
            if timing is not None and doc["received_at_ms"] > timing.deadline_ms + GRACE_MS:
                found["stored though received after the deadline + grace"] += 1
                report.example("stored late", _describe(record, doc))
            question_ended = ended.get((record.session_id, record.index))
            if question_ended is not None and record.sent_at_ms > question_ended + slack_ms:
                found["stored though sent after QUESTION_ENDED reached the player"] += 1
                report.example("stored after the reveal", _describe(record, doc))
        if not record.acked and matches:
            found["in doubt, scored once"] += 1
        if matches and not record.scores:
            found["acknowledged, scored, no SCORE_UPDATED"] += 1
            report.example("score frame missing", _describe(record, doc))
        verdicts = {(s["points_earned"], s["is_correct"], s["new_score"]) for s in record.scores}
        if len(verdicts) > 1:
            found["conflicting SCORE_UPDATED for one answer"] += 1
            report.example("conflicting verdicts", _describe(record, doc))
        found["repeats"] += len(record.score_message_ids) - len(set(record.score_message_ids))
        if record.scores:
            first = record.scores[0]
            if first["is_correct"] != record.intended_correct or (
                doc is not None and first["points_earned"] != doc["points"]
            ):
                found["bot verdict != stored verdict"] += 1
                report.example("bot verdict", _describe(record, doc))
            # The gateway received the answer between the bot's first send and its last
            # resend (and a little after: the network): the points lie between what the
            # rule gives at those times, one step of bonus less for the delay.
            first_ms = record.sent_at_ms - record.started_at_ms - slack_ms
            last_ms = max(record.sent_at_ms, record.last_sent_at_ms) - record.started_at_ms + slack_ms
            most = oracle_points(record.intended_correct, max(0, first_ms))
            least = (
                max(0, oracle_points(record.intended_correct, last_ms) - 1) if record.intended_correct else 0
            )
            if not least <= first["points_earned"] <= most:
                found["points outside the bot-clock oracle"] += 1
                report.example("bot timing", _describe(record, doc))
    by_full_message_id = {f"{r.uid}/{r.message_id}": r for r in records.values()}
    for key, doc in docs.items():
        owner = by_full_message_id.get(doc.get("message_id", ""))
        if owner is None or (owner.uid, owner.session_id, owner.question_id) != key:
            found["unexpected"] += 1
            report.example("unexpected", str(doc))
        started = stored.timings.get((key[1], key[2]))
        correct = doc["answer"].strip().lower() == RIGHT
        if (
            doc["is_correct"] != correct
            or started is None
            or doc["time_taken_ms"] != doc["received_at_ms"] - started.started_at_ms
            or doc["points"] != oracle_points(correct, doc["time_taken_ms"])
        ):
            found["document verdict != oracle"] += 1
            report.example("document oracle", str(doc))
    return found


def _check_scores(report: Report, bots: list[Bot], stored: Stored) -> Counter[str]:
    """Each player's stored score against its documents, the oracle, what its bot was told
    (every SCORE_UPDATED's new_score a running sum) and the final standings."""
    found: Counter[str] = Counter()
    per_uid_docs: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for (uid, session_id, _), doc in stored.docs.items():
        per_uid_docs[(session_id, uid)].append(doc)
    found["duplicated"] += sum(n - 1 for n in stored.doc_counts.values())
    for bot in bots:
        participant = stored.participants.get((bot.session_id, bot.uid), {})
        mine = per_uid_docs[(bot.session_id, bot.uid)]
        score = int(participant.get("score", -1))
        if score != sum(d["points"] for d in mine) or participant.get("answered_count") != len(mine):
            found["duplicated"] += 1
            report.example(
                "duplicated",
                f"{bot.uid}: score {score}, answered {participant.get('answered_count')}, "
                f"documents {len(mine)} worth {sum(d['points'] for d in mine)}",
            )
        if score != sum(
            oracle_points(d["answer"].strip().lower() == RIGHT, d["time_taken_ms"]) for d in mine
        ):
            found["final score != oracle(documents)"] += 1
        # Each new_score is the total right after its answer was stored. Answers are stored
        # in the order they were committed, which is not always the questions' order (an
        # answer resent after a reconnect can land after the next question's): ordered by
        # new_score, the points must add up to each one.
        seen = sorted(
            (r.scores[0] for r in bot.records.values() if r.scores),
            key=lambda s: (s["new_score"], s["points_earned"] == 0),
        )
        running, chain_ok = 0, True
        for s in seen:
            running += s["points_earned"]
            chain_ok = chain_ok and s["new_score"] == running
        if score != sum(s["points_earned"] for s in seen) or not chain_ok:
            found["final score != bots' SCORE_UPDATED"] += 1
            pairs = [(s["points_earned"], s["new_score"]) for s in seen]
            report.example("bot score", f"{bot.uid}: stored {score}, bot saw {pairs}")
        if bot.ended is None:
            found["no SESSION_ENDED"] += 1
            report.example("no SESSION_ENDED", f"{bot.uid} in {bot.session_id}")
            continue
        final = {e["user_id"]: e["score"] for e in bot.ended["standings"]}
        if final.get(bot.uid) != score:
            found["SESSION_ENDED standings != stored score"] += 1
    return found


def _check_versions(counts: dict[str, int], bots: list[Bot]) -> None:
    """Leaderboard versions as each bot saw them, per socket: none twice, none going back."""
    versions: Counter[str] = Counter()
    for bot in bots:
        first_socket: dict[int, int] = {}  # version -> the socket it first came on
        highest: dict[int, int] = {}  # socket -> the highest version it brought
        for version, socket_no in bot.versions:
            if version in first_socket:
                same = first_socket[version] == socket_no
                versions["seen twice" if same else "seen twice after reconnect"] += 1
            elif version < highest.get(socket_no, -1):
                versions["going back"] += 1
            elif version < max(highest.values(), default=-1):
                versions["going back after reconnect"] += 1
            first_socket.setdefault(version, socket_no)
            highest[socket_no] = max(highest.get(socket_no, -1), version)
    for name in ("seen twice", "going back", "seen twice after reconnect", "going back after reconnect"):
        counts[f"leaderboard version {name}"] = versions[name]
    counts["leaderboard frames"] = sum(len(b.versions) for b in bots)


def _describe(record: AnswerRecord, doc: dict[str, Any] | None) -> str:
    return (
        f"{record.uid} {record.session_id}/{record.question_id} mid={record.message_id} acked={record.acked} "
        f"resent={record.resent} error={record.error} scores={record.scores[:2]} doc={doc}"
    )
