"""Reading and splicing encoded server frames without decoding them: the gateway gives
each socket the shared LEADERBOARD_UPDATED with its own `your_rank`, and reads a frame's
type and a board's version, from the bytes the functions published.

The contract the encoder keeps (`server_frame` + `encode_frame` in protocol.frames, the
payload from `domain.leaderboard.leaderboard_payload`; tests/unit/test_boards.py holds
them to it), byte for byte:

1. A frame is compact JSON (`encode_frame`: no spaces after `,` and `:`) whose FIRST key
   is `type`, so every encoded server frame starts `{"type":"<TYPE>"`.
2. Its LAST key is `payload`, so the frame ends with the payload's closing brace and then
   its own: `}}`.
3. In a LEADERBOARD_UPDATED payload the LAST key is `ranks` (envelope.RANKS_KEY), an
   object of `"<uid>":<rank>` pairs (uids are protocol ids: no quote, backslash or
   comma; ranks are integers). A board therefore ends `,"ranks":{...}}}`, and the bytes
   before `,"ranks":` are the board every socket shares.
4. The first `"version":` in a board is its payload's `version`, a plain integer: no key
   named `version` comes before it (`type`, `timestamp`, `message_id`, then the payload's
   `session_id`, `version`, ...).

User text (usernames) cannot fake 3 or 4: JSON escapes its quotes, so `,"ranks":` or
`"version":` typed in a name arrives as `,\\"ranks\\":`. A board that does not end `}}}`
(functions older than payload-last, during a rolling deploy) is decoded and re-encoded in
order by `split_board`, the only place that decodes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import cast

from vocabquiz.protocol.envelope import RANKS_KEY
from vocabquiz.protocol.frames import ServerType, encode_frame

TYPE_PREFIX = b'{"type":"'
RANKS_SPLICE = b',"%s":' % RANKS_KEY.encode()  # contract 3: the last key of a board's payload
YOUR_RANK_KEY = "your_rank"
PARSE_RANKS_FROM = 32  # recipients of a board from which its ranks are parsed, not searched
_LEADERBOARD = b'"%s"' % ServerType.LEADERBOARD_UPDATED.value.encode()
_VERSION = re.compile(rb'"version":(\d+)')


def frame_type(data: bytes) -> str:
    """The type of an encoded server frame (contract 1); "unknown" if it is not first."""
    start = len(TYPE_PREFIX)
    end = data.find(b'"', start)
    return data[start:end].decode() if data.startswith(TYPE_PREFIX) and end > start else "unknown"


def is_leaderboard(data: bytes) -> bool:
    """Whether an encoded server frame is a LEADERBOARD_UPDATED (its type is up front)."""
    return _LEADERBOARD in data[:40]


def board_version(data: bytes) -> int:
    """A board's `version` (contract 4); -1 if it has none."""
    match = _VERSION.search(data)
    return int(match.group(1)) if match else -1


def split_board(data: bytes) -> tuple[bytes, bytes]:
    """(the board up to its `ranks`, without the closing braces; the ranks' JSON). A board
    from functions older than the payload-last encoding (a rolling deploy) is re-encoded."""
    at = data.rfind(RANKS_SPLICE)
    if at > 0 and data.endswith(b"}}}"):
        return data[:at], data[at + len(RANKS_SPLICE) : -2]
    frame = json.loads(data)
    ranks = frame["payload"].pop(RANKS_KEY, {})
    ordered = {k: v for k, v in frame.items() if k != "payload"} | {"payload": frame["payload"]}
    return encode_frame(ordered).encode()[:-2], json.dumps(ranks, separators=(",", ":")).encode()


def rank_lookup(ranks: bytes, recipients: int) -> Callable[[str], int | None]:
    """A socket's rank from the board's `ranks` object (`{"uid":rank,...}`; uids are
    protocol ids, no quotes or escapes). For a few sockets each is found in the bytes;
    for many, the object is parsed once (a 1,000-player object takes ~0.1 ms)."""
    if recipients >= PARSE_RANKS_FROM:
        return cast(Callable[[str], int | None], json.loads(ranks).get)

    def find(uid: str) -> int | None:
        at = ranks.find(b'"%s":' % uid.encode())
        if at < 0:
            return None
        start = at + len(uid) + 3
        stop = ranks.find(b",", start)
        return int(ranks[start : stop if stop >= 0 else -1])

    return find


def with_rank(shared: bytes, rank: int | None) -> bytes:
    """The board one socket gets: the shared part closed with its own `your_rank`."""
    return b'%s,"%s":%s}}' % (shared, YOUR_RANK_KEY.encode(), b"null" if rank is None else b"%d" % rank)


def boards_for(data: bytes, uids: Sequence[str]) -> list[bytes]:
    """The board each of `uids` gets, in their order: the shared part with that player's
    own `your_rank` in place of `ranks` (ties share a rank, and so one bytes object)."""
    shared, ranks = split_board(data)
    rank_of = rank_lookup(ranks, len(uids))
    by_rank: dict[int | None, bytes] = {}
    frames = []
    for uid in uids:
        rank = rank_of(uid)
        frame = by_rank.get(rank)
        if frame is None:
            frame = by_rank[rank] = with_rank(shared, rank)
        frames.append(frame)
    return frames
