"""Who may take a seat in a session, under which name: the rules `Store.join` runs inside
its transaction, on what it read. Pure: the store only commits what they decide."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from vocabquiz.domain import names
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Participant, Session, Status
from vocabquiz.protocol import ErrorCode


def display_name(raw_name: str) -> str:
    """The name a player asked for, cleaned (see names), or INVALID_NAME saying why not."""
    try:
        return names.clean_display_name(raw_name)
    except names.InvalidName as exc:
        raise GameError(ErrorCode.INVALID_NAME, exc.reason) from None


def admit(
    session: Session,
    uid: str,
    username: str,
    now_ms: int,
    *,
    banned: bool,
    seated: Participant | None,
    name_owner: str | None,
) -> Participant:
    """The participant `uid` becomes on joining: a newcomer seated now, or a seated player
    welcomed back (connected, under the name they asked for this time).

    Refused: a completed session, a player the host removed, a name another player holds.
    A session that has started still admits (late joiners answer what is left)."""
    if session.status is Status.COMPLETED:
        raise GameError(ErrorCode.SESSION_NOT_ACTIVE, "Session has ended")
    if banned:
        raise GameError(ErrorCode.KICKED, "You were removed from this session")
    if name_owner is not None and name_owner != uid:
        raise GameError(ErrorCode.NAME_TAKEN, f"The name {username!r} is taken in this session")
    if seated is not None:
        return dataclasses.replace(seated, username=username, connected=True)
    return Participant(uid, username, joined_at_ms=now_ms)


def check_capacity(seated_count: int, max_participants: int) -> None:
    """A newcomer needs a free seat."""
    if seated_count >= max_participants:
        raise GameError(ErrorCode.SESSION_FULL, "Session at capacity")


def keeps_seat(uid: str, earliest_seated: Sequence[str], seated_count: int, max_participants: int) -> bool:
    """After newcomers raced past the capacity check (it runs outside the transaction, so
    joins do not queue on one lock), the seats go to the earliest-seated: a late racer
    (not among the first `max_participants`) leaves again."""
    return seated_count <= max_participants or uid in earliest_seated


def shown_count(seated_count: int, max_participants: int) -> int:
    """The participant count a join reports: never more than the seats, even while an
    overflowing racer is on its way out."""
    return min(seated_count, max_participants)
