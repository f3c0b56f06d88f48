"""The answer path: a batch's answers to one session, judged against one read of the
session and stored exactly once, in as few commits as the rules allow.

The rules are the domain's (scoring: judging, the first answer counts, one commit per
player per round); this module sequences them around the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from vocabquiz.domain import messages, scoring
from vocabquiz.domain.errors import AlreadyAnswered, GameError, NotJoined
from vocabquiz.domain.ids import answer_id
from vocabquiz.domain.model import NewAnswer, Participant
from vocabquiz.observability import tracing
from vocabquiz.protocol import ClientFrame, ErrorCode
from vocabquiz.protocol.envelope import Command, Event
from vocabquiz.service.ports import AnswersRefused, Scored, Store, Stored
from vocabquiz.service.replies import context, refusal

log = logging.getLogger("quiz.game")

Submitted = tuple[Command, ClientFrame]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a batch's answers came to: the events to publish (scores and refusals) and
    each scored answer with the command that brought it."""

    events: list[Event]
    scored: list[tuple[Command, Scored]]
    commit_ms: float


class AnswerDesk:
    def __init__(self, store: Store) -> None:
        self.store = store

    def submit(self, session_id: str, submitted: Sequence[Submitted]) -> Outcome:
        """Score a batch's answers to one session, each exactly once.

        The session is read once, without a transaction, after the gateway received every
        answer of the batch: a reveal this read does not see committed after all of them
        arrived, so judging against it refuses exactly the answers received after a
        reveal. The judged answers go to the store in one commit per round (a player at
        most once in each) that creates each answer only if absent and moves its player's
        totals; a refused round is sorted out in `_store`."""
        started = time.perf_counter()
        events: list[Event] = []
        try:
            session = self.store.get_session(session_id)
            quiz = self.store.session_quiz(session_id)
        except GameError as error:
            for command, _ in submitted:
                with context(command):
                    events.append(refusal(command, error))
            return Outcome(events, [], 0.0)
        judged: list[tuple[Command, NewAnswer]] = []
        closed: list[tuple[Command, ClientFrame, GameError]] = []
        for command, frame in submitted:
            with context(command):
                payload = frame.payload
                try:
                    new = scoring.judge(
                        session,
                        quiz,
                        command.uid,
                        payload["question_id"],
                        payload["answer"],
                        command.received_at_ms,
                        _message_id(command, frame),
                    )
                except GameError as error:
                    if error.code is ErrorCode.QUESTION_CLOSED:
                        closed.append((command, frame, error))
                    else:
                        events.append(refusal(command, error))
                else:
                    judged.append((command, new))
        judged, repeated = scoring.first_answers(judged, answer=lambda item: item[1])
        for command, _ in repeated:
            with context(command):
                events.append(refusal(command, AlreadyAnswered()))
        scored = self._answered_before_closing(session_id, closed, events)
        for round_ in scoring.one_per_player(judged, uid=lambda item: item[1].uid):
            scored += self._store(session_id, round_, events)
        events += [
            Event(
                session_id,
                messages.score_updated(s.answer_id, s.participant, s.question_id, s.verdict),
                target_uid=c.uid,
            )
            for c, s in scored
        ]
        return Outcome(events, scored, (time.perf_counter() - started) * 1000)

    def _store(
        self, session_id: str, judged: Sequence[tuple[Command, NewAnswer]], events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """One commit for answers of distinct players. A refused commit (some answer
        exists, or some player is not seated) is sorted out with one read: what exists is
        replayed (the same message) or refused (a second attempt), and the rest is
        committed again; what is still refused then goes one answer at a time."""
        fresh = self._commit(session_id, judged)
        if fresh is not None:
            return fresh
        stored = self.store.stored_answers(session_id, [(a.uid, a.question_id) for _, a in judged])
        scored: list[tuple[Command, Scored]] = []
        rest: list[tuple[Command, NewAnswer]] = []
        for command, a in judged:
            earlier = stored.get(answer_id(a.uid, a.question_id))
            if earlier is None:
                rest.append((command, a))
            else:
                scored += _replay(command, a.question_id, a.message_id, earlier, events)
        fresh = self._commit(session_id, rest) if rest else []
        if fresh is None:
            fresh = [one for command, a in rest for one in self._score_alone(session_id, command, a, events)]
        return scored + fresh

    def _score_alone(
        self, session_id: str, command: Command, a: NewAnswer, events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """One answer in a transaction of its own, judged again on the session it reads."""
        with context(command):
            try:
                one = self.store.score_answer(
                    session_id,
                    a,
                    lambda session: scoring.judge(
                        session,
                        self.store.session_quiz(session_id),
                        a.uid,
                        a.question_id,
                        a.answer,
                        a.received_at_ms,
                        a.message_id,
                    ),
                )
            except GameError as error:
                events.append(refusal(command, error))
                return []
            return [(command, one)]

    def _answered_before_closing(
        self, session_id: str, closed: Sequence[tuple[Command, ClientFrame, GameError]], events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """Answers refused because their question is closed (or not open yet), unless one
        was stored before: a copy delivered late, or resent after a reconnect, of an answer
        scored in time gets its verdict again (the same message), and another attempt
        ALREADY_ANSWERED, as the first answer counts. A player who is not seated hears
        NOT_JOINED, as a transaction would tell them before looking at the question."""
        if not closed:
            return []
        keys = [(command.uid, frame.payload["question_id"]) for command, frame, _ in closed]
        stored = self.store.stored_answers(session_id, keys)
        strangers = {uid for uid, question_id in keys if answer_id(uid, question_id) not in stored}
        seated = self.store.seated(session_id, sorted(strangers)) if strangers else set()
        replayed: list[tuple[Command, Scored]] = []
        for (command, frame, error), (uid, question_id) in zip(closed, keys, strict=True):
            earlier = stored.get(answer_id(uid, question_id))
            if earlier is not None:
                replayed += _replay(command, question_id, _message_id(command, frame), earlier, events)
                continue
            with context(command):
                events.append(refusal(command, error if uid in seated else NotJoined(session_id)))
        return replayed

    def _commit(
        self, session_id: str, judged: Sequence[tuple[Command, NewAnswer]]
    ) -> list[tuple[Command, Scored]] | None:
        """The answers stored in one commit, or None when the commit was refused whole."""
        with tracing.tracer().start_as_current_span("score commit", attributes={"quiz.answers": len(judged)}):
            try:
                totals = self.store.commit_answers(session_id, [answer for _, answer in judged])
            except AnswersRefused:
                return None
        return [
            (command, Scored(answer_id(a.uid, a.question_id), p, a.question_id, a.verdict, replayed=False))
            for (command, a), p in zip(judged, totals, strict=True)
        ]


def _message_id(command: Command, frame: ClientFrame) -> str:
    """An answer's message, as stored: the player's own frame id, under their uid."""
    return f"{command.uid}/{frame.message_id}"


def _replay(
    command: Command, question_id: str, message_id: str, earlier: Stored, events: list[Event]
) -> list[tuple[Command, Scored]]:
    """An answer stored before: the same message gets its stored verdict and score again
    (under the same frame id); another attempt is refused."""
    try:
        scoring.require_same_message(earlier.message_id, message_id)
    except GameError as error:
        with context(command):
            events.append(refusal(command, error))
        return []
    replay = Participant(command.uid, "", score=earlier.score_after)
    the_id = answer_id(command.uid, question_id)
    return [(command, Scored(the_id, replay, question_id, earlier.verdict, replayed=True))]
