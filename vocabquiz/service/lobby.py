"""Players in and out of a session's room: join, rejoin, leave, a closed socket, the
host's own socket watching, and a kick. Admission rules are the domain's (`admission`);
this module sequences the store and the frames around them."""

from __future__ import annotations

import logging
from typing import Any

from vocabquiz.domain import admission, leaderboard, lifecycle, messages
from vocabquiz.domain.model import Participant, Quiz, Session, Status
from vocabquiz.protocol import ErrorCode, error_frame
from vocabquiz.protocol.envelope import ROOM_ENTER, ROOM_LEAVE, Command, Event
from vocabquiz.protocol.types import ServerFrame
from vocabquiz.service.flushes import Flushes
from vocabquiz.service.ports import EventPublisher, Store
from vocabquiz.service.replies import reply

log = logging.getLogger("quiz.game")


class Lobby:
    def __init__(self, store: Store, publisher: EventPublisher, flushes: Flushes) -> None:
        self.store = store
        self.publisher = publisher
        self.flushes = flushes

    def join(self, command: Command, payload: dict[str, Any]) -> None:
        username = admission.display_name(payload["username"])
        joined = self.store.join(
            payload["session_id"], command.uid, username, command.received_at_ms, command.connection_id
        )
        self._welcome(command, joined.session, joined.participant, joined.participant_count)
        self.publisher.publish(
            [Event(joined.session.id, messages.user_joined(joined.participant, joined.participant_count))]
        )
        self.flushes.request(joined.session.id)
        fields = {"participant_count": joined.participant_count, "is_new": joined.is_new}
        log.info("player joined", extra={"json_fields": fields})

    def rejoin(self, command: Command, payload: dict[str, Any]) -> None:
        session = self.store.get_session(payload["session_id"])
        participant, count, was_connected = self.store.set_connected(
            session.id, command.uid, True, command.connection_id
        )
        self._welcome(command, session, participant, count)
        if not was_connected:  # back after a disconnect: the others see them again
            self.publisher.publish([Event(session.id, messages.user_joined(participant, count))])
        self.flushes.request(session.id)  # a reloaded page gets its leaderboard back soon
        log.info("player rejoined", extra={"json_fields": {"participant_count": count}})

    def _welcome(self, command: Command, session: Session, participant: Participant, count: int) -> None:
        """SESSION_JOINED with score and rank to this connection (which enters the room),
        then the open question, if any, so a late or returning player can answer it."""
        quiz = self.store.session_quiz(session.id)
        uid = participant.uid
        open_question = session.open_question
        joined = messages.session_joined(
            session,
            participant,
            count,
            quiz,
            your_rank=leaderboard.rank_behind(self.store.players_ahead(session.id, participant.score)),
            answered_current=open_question is not None
            and self.store.has_answered(session.id, uid, open_question.question_id),
        )
        self._publish_welcome(command, session, quiz, joined)

    def watch(self, command: Command, payload: dict[str, Any]) -> None:
        """The host's socket enters the room to follow the session live."""
        session = self.store.get_session(payload["session_id"])
        lifecycle.require_host(session, command.uid)
        quiz = self.store.session_quiz(session.id)
        participants = self.store.participants(session.id)
        self._publish_welcome(command, session, quiz, messages.host_joined(session, quiz, participants))
        self.flushes.request(session.id)
        log.info("host watching")

    def _publish_welcome(self, command: Command, session: Session, quiz: Quiz, joined: ServerFrame) -> None:
        """SESSION_JOINED (the connection enters the room), then where the game stands:
        the open question, or the last reveal while the next question is pending."""
        events = [reply(session.id, command, joined, room=ROOM_ENTER)]
        current = session.current
        if session.open_question is not None:
            started = messages.question_started(session, quiz, session.open_question)
            events.append(reply(session.id, command, started))
        elif current is not None and session.status is Status.ACTIVE:
            question = quiz.questions[current.index]
            stats = messages.question_stats(question, self.store.answers_to(session.id, question.id))
            events.append(
                reply(session.id, command, messages.question_ended(session, question, current, stats))
            )
        self.publisher.publish(events)

    def leave(self, command: Command, payload: dict[str, Any]) -> None:
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
            [Event(session_id, left), Event(session_id, left, target_uid=command.uid, room=ROOM_LEAVE)]
        )
        log.info("player left", extra={"json_fields": {"participant_count": count}})

    def kick(self, session_id: str, uid: str, target_uid: str) -> None:
        """The host removes a player for good: told KICKED, out of the room, banned."""
        session = self.store.get_session(session_id)
        lifecycle.require_host(session, uid)
        participant = self.store.kick(session_id, target_uid)
        count = self.store.present_count(session_id)
        kicked = error_frame(ErrorCode.KICKED, "The host removed you from this session")
        left = messages.user_left(participant, count, kicked=True)
        self.publisher.publish(
            [Event(session_id, kicked, target_uid=target_uid, room=ROOM_LEAVE), Event(session_id, left)]
        )
        self.flushes.request(session_id)
