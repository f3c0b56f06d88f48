"""The game service: turns commands, host actions and timers into stored state, events
and tasks. Rules live in quiz/; this module sequences them around I/O.

Every handler is safe to run twice (Pub/Sub and Cloud Tasks deliver at least once): state
changes happen in transactions keyed by what they change, and a replay re-publishes the
same frames under the same message ids instead of changing anything.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from vocabquiz.adapters.events import EventPublisher
from vocabquiz.adapters.naming import answer_id
from vocabquiz.adapters.store import AnswersRefused, Scored, Store, Stored
from vocabquiz.adapters.tasks import FLUSH_KIND, SNAPSHOT_KIND, TaskQueue, flush_request, timer_request
from vocabquiz.domain import leaderboard, lifecycle, messages, scoring
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import NewAnswer, Participant, Quiz, Session, Status, Timing
from vocabquiz.domain.results import session_results
from vocabquiz.observability import logs, tracing
from vocabquiz.protocol import (
    ClientFrame,
    ClientType,
    ErrorCode,
    ProtocolError,
    ServerType,
    error_frame,
    now_ms,
    server_frame,
    validate_client_frame,
)
from vocabquiz.protocol.envelope import ROOM_ENTER, ROOM_LEAVE, Command, Event
from vocabquiz.service.config import Config
from vocabquiz.service.standings import Standings

log = logging.getLogger("quiz.game")

MAX_REMEMBERED_FLUSHES = 4096  # (session, kind) pairs an instance remembers asking a flush for


class Game:
    def __init__(
        self,
        store: Store,
        publisher: EventPublisher,
        tasks: TaskQueue,
        config: Config,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.tasks = tasks
        self.config = config
        self.clock = clock
        self.standings = Standings(store, clock)
        # (session, snapshot) -> the start (ms) of the last window this instance asked a flush for.
        self._flush_requested: dict[tuple[str, bool], int] = {}

    # -- player commands (from quiz-commands) --------------------------------------

    def handle_command(self, command: Command) -> None:
        """Run one player command; a refusal goes back to that connection as ERROR."""
        self.handle_commands([command])

    def handle_commands(self, commands: Sequence[Command]) -> None:
        """Run a batch of commands (one Pub/Sub message). Answers are judged against one
        read of their session and stored in one commit per session; the others run one
        by one, in order, before them. Each refusal goes back to its own connection."""
        answers: defaultdict[str, list[tuple[Command, ClientFrame]]] = defaultdict(list)
        for command in commands:
            with self._context(command):
                try:
                    frame = validate_client_frame(command.frame)
                    if frame.type is ClientType.SUBMIT_ANSWER:
                        answers[command.session_id].append((command, frame))
                        continue
                    handler = {
                        ClientType.JOIN_SESSION: self.join,
                        ClientType.REJOIN: self.rejoin,
                        ClientType.LEAVE_SESSION: self.leave,
                        ClientType.WATCH_SESSION: self.watch,
                    }.get(frame.type)
                    if handler is None:
                        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"{frame.type} is not a command")
                    handler(command, frame.payload, frame.message_id)
                except (GameError, ProtocolError) as refusal:
                    self.publisher.publish([self._refusal(command, refusal)])
        for session_id, submitted in answers.items():
            with logs.bind(session_id=session_id):
                self.submit_answers(session_id, submitted)

    @staticmethod
    @contextmanager
    def _context(command: Command) -> Iterator[None]:
        """Lines logged for a command name its session, user, connection and trace."""
        with (
            tracing.within(command.trace_carrier),
            logs.bind(session_id=command.session_id, uid=command.uid, connection_id=command.connection_id),
        ):
            yield

    def _refusal(self, command: Command, refusal: GameError | ProtocolError) -> Event:
        log.info("command refused", extra={"json_fields": {"code": refusal.code}})
        reply = error_frame(refusal.code, refusal.message, message_id=command.frame.get("message_id"))
        return self._reply(command.session_id, command, reply)

    def submit_answers(self, session_id: str, submitted: Sequence[tuple[Command, ClientFrame]]) -> None:
        """Score a batch's answers to one session, each exactly once.

        The session is read once, without a transaction, after the gateway received every
        answer of the batch: a reveal this read does not see committed after all of them
        arrived, so judging against it refuses exactly the answers received after a
        reveal. The judged answers go to the store in one commit per round (a player at
        most once in each) that creates each answer only if absent and moves its player's
        totals; a refused round is sorted out in `_store_answers`. Then one publish for
        the batch's scores and refusals, and the window's flush task."""
        started = time.perf_counter()
        events: list[Event] = []
        try:
            session = self.store.get_session(session_id)
            quiz = self.store.session_quiz(session_id)
        except GameError as refusal:
            for command, _ in submitted:
                with self._context(command):
                    events.append(self._refusal(command, refusal))
            self.publisher.publish(events)
            return
        judged: list[tuple[Command, NewAnswer]] = []
        closed: list[tuple[Command, ClientFrame, GameError]] = []
        for command, frame in submitted:
            with self._context(command):
                try:
                    judged.append((command, judge(session, quiz, command, frame)))
                except GameError as refusal:
                    if refusal.code is ErrorCode.QUESTION_CLOSED:
                        closed.append((command, frame, refusal))
                    else:
                        events.append(self._refusal(command, refusal))
        judged, repeated = scoring.first_answers(judged, answer=lambda item: item[1])
        for command, _ in repeated:
            with self._context(command):
                events.append(self._refusal(command, ALREADY_ANSWERED))
        results = self._answered_before_closing(session_id, closed, events)
        for round_ in scoring.one_per_player(judged, uid=lambda item: item[1].uid):
            results += self._store_answers(session_id, round_, events)
        events += [
            Event(
                session_id,
                messages.score_updated(s.answer_id, s.participant, s.question_id, s.verdict),
                target_uid=c.uid,
            )
            for c, s in results
        ]
        commit_ms = (time.perf_counter() - started) * 1000
        self.publisher.publish(events)
        created = self._request_flush(session_id) if results else False
        latency_end = self.clock()
        for command, scored in results:
            with self._context(command):
                # One line per answer: the trail of its trace, and what the answer metrics
                # count (terraform/modules/monitoring reads these fields).
                log.info(
                    "answer scored",
                    extra={
                        "json_fields": {
                            "question_id": scored.question_id,
                            "message_id": command.frame.get("message_id"),
                            "correct": scored.verdict.correct,
                            "points": scored.verdict.points,
                            "time_taken_ms": scored.verdict.time_taken_ms,
                            "replayed": scored.replayed,
                            "attempts": scored.attempts,
                            "batch_size": len(submitted),
                            "transaction_ms": round(commit_ms, 1),
                            # Gateway receive -> scored, published and flush requested: server clocks.
                            "latency_ms": latency_end - command.received_at_ms,
                            "task_kind": FLUSH_KIND,
                            "task_created": created,
                        }
                    },
                )
            created = False  # the window's task: created (or not) once per batch

    def _store_answers(
        self, session_id: str, judged: Sequence[tuple[Command, NewAnswer]], events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """One commit for answers of distinct players. A refused commit (some answer
        exists, or some player is not seated) is sorted out with one read: what exists is
        replayed (the same message) or refused (a second attempt), and the rest is
        committed again; what is still refused then goes one answer at a time."""
        fresh = self._commit_answers(session_id, judged)
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
                scored += self._replay(command, a.question_id, a.message_id, earlier, events)
        fresh = self._commit_answers(session_id, rest) if rest else []
        if fresh is None:
            fresh = []
            for command, a in rest:
                with self._context(command):
                    try:
                        one = self.store.score_answer(
                            session_id, a.uid, a.question_id, a.answer, a.received_at_ms, a.message_id
                        )
                    except GameError as refusal:
                        events.append(self._refusal(command, refusal))
                    else:
                        fresh.append((command, one))
        return scored + fresh

    def _answered_before_closing(
        self, session_id: str, closed: Sequence[tuple[Command, ClientFrame, GameError]], events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """Answers refused because their question is closed (or not open yet), unless one
        was stored before: a copy delivered late, or resent after a reconnect, of an answer
        scored in time gets its verdict again (the same message), and another attempt
        ALREADY_ANSWERED, as the first answer counts."""
        if not closed:
            return []
        keys = [(command.uid, frame.payload["question_id"]) for command, frame, _ in closed]
        stored = self.store.stored_answers(session_id, keys)
        replayed: list[tuple[Command, Scored]] = []
        for command, frame, refusal in closed:
            question_id = frame.payload["question_id"]
            earlier = stored.get(answer_id(command.uid, question_id))
            if earlier is None:
                with self._context(command):
                    events.append(self._refusal(command, refusal))
            else:
                message_id = f"{command.uid}/{frame.message_id}"
                replayed += self._replay(command, question_id, message_id, earlier, events)
        return replayed

    def _replay(
        self, command: Command, question_id: str, message_id: str, earlier: Stored, events: list[Event]
    ) -> list[tuple[Command, Scored]]:
        """An answer stored before: the same message gets its stored verdict and score again
        (under the same frame id); another attempt is refused."""
        if earlier.message_id != message_id:
            with self._context(command):
                events.append(self._refusal(command, ALREADY_ANSWERED))
            return []
        replay = Participant(command.uid, "", score=earlier.score_after)
        the_id = answer_id(command.uid, question_id)
        return [(command, Scored(the_id, replay, question_id, earlier.verdict, replayed=True))]

    def _commit_answers(
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

    def join(self, command: Command, payload: dict[str, Any], message_id: str) -> None:
        joined = self.store.join(
            payload["session_id"],
            command.uid,
            payload["username"],
            command.received_at_ms,
            command.connection_id,
        )
        self._welcome(command, joined.session, joined.participant.uid, joined.participant_count)
        self.publisher.publish(
            [Event(joined.session.id, messages.user_joined(joined.participant, joined.participant_count))]
        )
        self._request_flush(joined.session.id)
        log.info(
            "player joined",
            extra={"json_fields": {"participant_count": joined.participant_count, "is_new": joined.is_new}},
        )

    def rejoin(self, command: Command, payload: dict[str, Any], message_id: str) -> None:
        session = self.store.get_session(payload["session_id"])
        participant, count, was_connected = self.store.set_connected(
            session.id, command.uid, True, command.connection_id
        )
        self._welcome(command, session, participant.uid, count)
        if not was_connected:  # back after a disconnect: the others see them again
            self.publisher.publish([Event(session.id, messages.user_joined(participant, count))])
        self._request_flush(session.id)  # a reloaded page gets its leaderboard back soon
        log.info("player rejoined", extra={"json_fields": {"participant_count": count}})

    def _welcome(self, command: Command, session: Session, uid: str, count: int) -> None:
        """SESSION_JOINED with score and rank to this connection (which enters the room),
        then the open question, if any, so a late or returning player can answer it."""
        quiz = self.store.session_quiz(session.id)
        participant = self.store.participant(session.id, uid)
        joined = messages.session_joined(session, participant, count, quiz)
        open_question = session.open_question
        joined["payload"]["your_rank"] = self.store.rank_of(session.id, participant.score)
        joined["payload"]["answered_current"] = open_question is not None and self.store.has_answered(
            session.id, uid, open_question.question_id
        )
        self._publish_welcome(command, session, quiz, joined)

    def watch(self, command: Command, payload: dict[str, Any], message_id: str) -> None:
        """The host's socket enters the room to follow the session live."""
        session = self.store.get_session(payload["session_id"])
        lifecycle.require_host(session, command.uid)
        quiz = self.store.session_quiz(session.id)
        ranked = leaderboard.rank_participants(self.store.participants(session.id))
        joined = server_frame(
            ServerType.SESSION_JOINED,
            {
                "session_id": session.id,
                "quiz_id": session.quiz_id,
                "quiz_title": quiz.title,
                "status": session.status.value,
                "role": "host",
                "participant_count": len(ranked),
                "question_count": session.question_count,
                "participants": [
                    {"user_id": r.uid, "username": r.username, "score": r.score} for r in ranked
                ],
            },
        )
        self._publish_welcome(command, session, quiz, joined)
        self._request_flush(session.id)
        log.info("host watching")

    def _publish_welcome(
        self, command: Command, session: Session, quiz: Quiz, joined: dict[str, Any]
    ) -> None:
        """SESSION_JOINED (the connection enters the room), then where the game stands:
        the open question, or the last reveal while the next question is pending."""
        events = [self._reply(session.id, command, joined, room=ROOM_ENTER)]
        current = session.current
        if session.open_question is not None:
            started = messages.question_started(session, quiz, session.open_question)
            events.append(self._reply(session.id, command, started))
        elif current is not None and session.status is Status.ACTIVE:
            question = quiz.questions[current.index]
            stats = messages.question_stats(question, self.store.answers_to(session.id, question.id))
            events.append(
                self._reply(session.id, command, messages.question_ended(session, question, current, stats))
            )
        self.publisher.publish(events)

    def leave(self, command: Command, payload: dict[str, Any], message_id: str) -> None:
        session_id = payload["session_id"]
        if command.disconnected:
            # The gateway's word that this connection closed without leaving: the player
            # is away, unless they are already back on another connection.
            away = self.store.disconnect(session_id, command.uid, command.connection_id)
            if away is None:
                return
            participant, count = away
            self.publisher.publish([Event(session_id, messages.user_left(participant, count))])
            log.info("player disconnected", extra={"json_fields": {"participant_count": count}})
            return
        participant, count, _ = self.store.set_connected(session_id, command.uid, False)
        left = messages.user_left(participant, count)
        self.publisher.publish(
            [
                Event(session_id, left),
                Event(session_id, left, target_uid=command.uid, room=ROOM_LEAVE),
            ]
        )
        log.info("player left", extra={"json_fields": {"participant_count": count}})

    def _reply(
        self, session_id: str, command: Command, frame: dict[str, Any], room: str | None = None
    ) -> Event:
        return Event(
            session_id, frame, target_uid=command.uid, target_connection=command.connection_id, room=room
        )

    # -- leaderboards (from Cloud Tasks) -----------------------------------------------

    def _request_flush(self, session_id: str, snapshot: bool = False) -> bool:
        """One named task per (session, window): Cloud Tasks refuses the rest, and this
        instance does not ask twice. True when this call created the window's task
        (False: ALREADY_EXISTS, or already requested here). A snapshot's window is a second."""
        window_ms = self.config.snapshot_window_ms if snapshot else self.config.flush_window_ms
        now = self.clock()
        window = now // window_ms
        if self._flush_requested.get((session_id, snapshot)) == window * window_ms:
            return False
        created = self.tasks.create(flush_request(self.config, session_id, window, snapshot=snapshot))
        if len(self._flush_requested) >= MAX_REMEMBERED_FLUSHES:  # forget long-quiet sessions
            self._flush_requested = {k: at for k, at in self._flush_requested.items() if at >= now - 60_000}
        self._flush_requested[(session_id, snapshot)] = window * window_ms
        return created

    def flush_leaderboard(self, session_id: str, window: int, snapshot: bool) -> None:
        """Every flush window: LEADERBOARD_UPDATED to the session. Every snapshot window
        (a second): the Firestore copy for direct readers, and the host's live answer
        stats (they cost a read per answer so far, so not ten times a second)."""
        started = time.perf_counter()
        ranked = leaderboard.rank_participants(self.standings.participants(session_id))
        payload = leaderboard.leaderboard_payload(session_id, window, ranked)
        fields: dict[str, Any] = {
            "session_id": session_id,
            "window": window,
            "snapshot": snapshot,
            "participants": len(ranked),
        }
        window_ms = self.config.snapshot_window_ms if snapshot else self.config.flush_window_ms
        if snapshot:
            self.store.save_leaderboard_snapshot(session_id, payload, self.clock())
            self._publish_answer_stats(session_id)
        else:
            frame = server_frame(
                ServerType.LEADERBOARD_UPDATED, payload, message_id=f"lb-{session_id}-{window}"
            )
            self.publisher.publish([Event(session_id, frame)])
            created = self._request_flush(session_id, snapshot=True)
            fields |= {"task_kind": SNAPSHOT_KIND, "task_created": created}
        # One line per flush (at most one per session and window), never one per frame.
        fields |= {
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            # How long after its window closed the flush was done: the leaderboard's delay.
            "lag_ms": self.clock() - (window + 1) * window_ms,
        }
        log.info("leaderboard flushed", extra={"json_fields": fields})

    def _publish_answer_stats(self, session_id: str) -> None:
        session = self.store.get_session(session_id)
        open_question = session.open_question
        if open_question is None:
            return
        question = self.store.session_quiz(session_id).questions[open_question.index]
        stats = messages.question_stats(question, self.standings.answers_to(session_id, question.id))
        frame = messages.answer_stats(session, open_question, stats)
        self.publisher.publish([Event(session_id, frame, target_uid=session.host_uid)])

    # -- host actions (from the sessions API) ---------------------------------------------

    def create_session(
        self, quiz_id: str, host_uid: str, max_participants: int, auto_advance: bool
    ) -> Session:
        quiz = self.store.load_quiz(quiz_id)
        if quiz is None:
            raise GameError(ErrorCode.INVALID_SESSION, f"Quiz {quiz_id} does not exist")
        session = self.store.create_session(quiz, host_uid, max_participants, auto_advance, self.clock())
        log.info("session created", extra={"json_fields": {"session_id": session.id, "quiz_id": quiz_id}})
        return session

    def start(self, session_id: str, uid: str) -> Session:
        return self._host_step(session_id, uid, lifecycle.start)

    def next_question(self, session_id: str, uid: str) -> Session:
        return self._host_step(session_id, uid, lifecycle.host_next)

    def end(self, session_id: str, uid: str) -> Session:
        return self._host_step(session_id, uid, lambda session, quiz, now_ms: lifecycle.end(session, now_ms))

    def _host_step(self, session_id: str, uid: str, step: Callable[[Session, Quiz, int], Session]) -> Session:
        """A host action: only the session's host may take it; applied in a transaction,
        then announced."""
        quiz = self.store.session_quiz(session_id)

        def change(session: Session) -> Session:
            lifecycle.require_host(session, uid)
            return step(session, quiz, self.clock())

        before, after = self.store.transition(session_id, change)
        assert after is not None
        self._announce(before, after, quiz)
        return after

    def kick(self, session_id: str, uid: str, target_uid: str) -> None:
        session = self.store.get_session(session_id)
        lifecycle.require_host(session, uid)
        participant = self.store.kick(session_id, target_uid)
        count = len(self.store.participants(session_id))
        kicked = error_frame(ErrorCode.KICKED, "The host removed you from this session")
        left = messages.user_left(participant, count)
        left["payload"]["kicked"] = True
        self.publisher.publish(
            [Event(session_id, kicked, target_uid=target_uid, room=ROOM_LEAVE), Event(session_id, left)]
        )
        self._request_flush(session_id)

    def results(self, session_id: str, uid: str) -> dict[str, Any]:
        session = self.store.get_session(session_id)
        lifecycle.require_host(session, uid)
        quiz = self.store.session_quiz(session_id)
        report = session_results(
            quiz, self.store.participants(session_id), self.store.all_answers(session_id)
        )
        return {"session_id": session_id, "status": session.status.value, **report}

    # -- question timers (from Cloud Tasks) ----------------------------------------------

    def on_timer(self, session_id: str, action: str, index: int) -> None:
        quiz = self.store.session_quiz(session_id)
        if action == "close":
            before, after = self.store.transition(
                session_id, lambda s: lifecycle.reveal(s, index, self.clock())
            )
        elif action == "open":

            def open_next(session: Session) -> Session | None:
                current = session.current
                if session.open_question or current is None or current.index != index - 1:
                    return None  # the host moved on already, or the session ended
                return lifecycle.advance(session, quiz, self.clock())

            before, after = self.store.transition(session_id, open_next)
        else:
            raise ValueError(f"Unknown timer action {action!r}")
        log.info(
            "timer fired",
            extra={
                "json_fields": {
                    "session_id": session_id,
                    "action": action,
                    "index": index,
                    "changed": after is not None,
                }
            },
        )
        if after is not None:
            self._announce(before, after, quiz)
        elif before.current is not None and before.current.index == index:
            # A redelivered timer whose change already committed: publish again (same
            # message ids) in case the first run failed between commit and publish.
            self._announce(None, before, quiz)

    # -- announcing a transition ----------------------------------------------------------

    def _announce(self, before: Session | None, after: Session, quiz: Quiz) -> None:
        """Publish what changed from `before` to `after` in order, and arm the timers."""
        events: list[Event] = []
        closed = after.current if after.revealed else None
        if closed is not None and _same_question(before.open_question if before else None, closed):
            question = quiz.questions[closed.index]
            stats = messages.question_stats(question, self.store.answers_to(after.id, question.id))
            events.append(Event(after.id, messages.question_ended(after, question, closed, stats)))
            log.info(
                "question revealed", extra={"json_fields": {"session_id": after.id, "index": closed.index}}
            )
            if after.auto_advance and after.status is Status.ACTIVE:
                self.tasks.create(
                    timer_request(
                        self.config,
                        after.id,
                        "open",
                        closed.index + 1,
                        self.clock() + self.config.reveal_pause_ms,
                    )
                )
        opened = after.open_question
        if opened is not None and not _same_question(before.open_question if before else None, opened):
            events.append(Event(after.id, messages.question_started(after, quiz, opened)))
            log.info(
                "question opened", extra={"json_fields": {"session_id": after.id, "index": opened.index}}
            )
            self.tasks.create(
                timer_request(
                    self.config, after.id, "close", opened.index, opened.deadline_ms + scoring.GRACE_MS
                )
            )
        if after.status is Status.COMPLETED:
            ranked = leaderboard.rank_participants(self.store.participants(after.id))
            events.append(Event(after.id, messages.session_ended(after, ranked)))
            log.info("session ended", extra={"json_fields": {"session_id": after.id}})
        self.publisher.publish(events)


ALREADY_ANSWERED = GameError(ErrorCode.ALREADY_ANSWERED, "Only your first answer counts")


def judge(session: Session, quiz: Quiz, command: Command, frame: ClientFrame) -> NewAnswer:
    """An answer judged against the session as read for its batch."""
    payload = frame.payload
    question = quiz.question(payload["question_id"])
    if question is None:
        raise GameError(ErrorCode.INVALID_QUESTION, f"No question {payload['question_id']} in this quiz")
    timing = session.timings.get(question.id)
    if timing is None:
        raise GameError(ErrorCode.QUESTION_CLOSED, f"Question {question.id} has not started")
    verdict = scoring.judge_answer(question, timing, payload["answer"], command.received_at_ms)
    return NewAnswer(
        command.uid,
        question.id,
        payload["answer"],
        verdict,
        command.received_at_ms,
        f"{command.uid}/{frame.message_id}",
    )


def _same_question(a: Timing | None, b: Timing) -> bool:
    return a is not None and a.index == b.index
