"""What every command handler shares: the log and trace context of a command, and the
events that answer it (a refusal as ERROR, a frame to its own connection)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from vocabquiz.domain.errors import GameError
from vocabquiz.observability import logs, tracing
from vocabquiz.protocol import ProtocolError, error_frame
from vocabquiz.protocol.envelope import Command, Event
from vocabquiz.protocol.types import ServerFrame

log = logging.getLogger("quiz.game")


@contextmanager
def context(command: Command) -> Iterator[None]:
    """Lines logged for a command name its session, user, connection and trace."""
    with (
        tracing.within(command.trace_carrier),
        logs.bind(session_id=command.session_id, uid=command.uid, connection_id=command.connection_id),
    ):
        yield


def reply(session_id: str, command: Command, frame: ServerFrame, room: str | None = None) -> Event:
    """A frame for the command's own connection (`room`: it enters or leaves the session's room)."""
    return Event(
        session_id, frame, target_uid=command.uid, target_connection=command.connection_id, room=room
    )


def refusal(command: Command, error: GameError | ProtocolError) -> Event:
    """ERROR to the connection that sent the command, echoing its message id."""
    log.info("command refused", extra={"json_fields": {"code": error.code}})
    frame = error_frame(error.code, error.message, message_id=command.frame.get("message_id"))
    return reply(command.session_id, command, frame)
