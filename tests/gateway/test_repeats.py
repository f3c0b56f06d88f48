"""Copies of events (Pub/Sub delivers at least once; a function that runs again publishes
again): no socket gets an event twice, a socket opened since gets it (a player who
reconnected hears a replayed verdict), and what the gateway remembers is bounded."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection

from gateway.repeats import _ID_WITHIN, SentEvents, event_key, frame_message_id
from tests.gateway.harness import Running, frames_until, join, ping
from vocabquiz.adapters.events import messages_for
from vocabquiz.protocol import ErrorCode, ServerType, encode_frame, error_frame, server_frame
from vocabquiz.protocol.envelope import ROOM_ENTER, ROOM_LEAVE, Event


def deliver(gateway: Running, *events: Event) -> None:
    """The events as the functions publish them (vocabquiz/adapters/events.py)."""
    for _, data, attributes in messages_for(events):
        gateway.events.deliver(data, attributes)


def question(session_id: str, index: int) -> Event:
    frame = server_frame(ServerType.QUESTION_STARTED, {"index": index}, message_id=f"qs-{session_id}-{index}")
    return Event(session_id, frame)


def score(session_id: str, uid: str, points: int) -> Event:
    frame = server_frame(
        ServerType.SCORE_UPDATED, {"user_id": uid, "new_score": points}, message_id=f"score-{uid}_q1"
    )
    return Event(session_id, frame, target_uid=uid)  # bundled with the batch's other scores


async def types_received(ws: ClientConnection) -> list[str]:
    return [f["type"] for f in await ping(ws)]


async def test_copy_of_an_event_reaches_each_socket_once(gateway: Running) -> None:
    sockets = [await gateway.connect() for _ in range(3)]
    for ws in sockets:
        await join(gateway, ws, "S1")
    deliver(gateway, question("S1", 0))
    deliver(gateway, question("S1", 0))  # redelivered
    deliver(gateway, question("S1", 1))
    await asyncio.sleep(0.05)
    deliver(gateway, question("S1", 0))  # a copy that came late
    for ws in sockets:
        frames = await ping(ws)
        assert [f["payload"]["index"] for f in frames] == [0, 1]


async def test_copy_of_a_bundle_of_scores_reaches_each_player_once(gateway: Running) -> None:
    ada, bob = await gateway.connect("ada"), await gateway.connect("bob")
    for ws in (ada, bob):
        await join(gateway, ws, "S1")
    deliver(gateway, score("S1", "ada", 10), score("S1", "bob", 20))
    deliver(gateway, score("S1", "ada", 10), score("S1", "bob", 20))
    assert [f["payload"]["new_score"] for f in await ping(ada)] == [10]
    assert [f["payload"]["new_score"] for f in await ping(bob)] == [20]


async def test_replayed_verdict_reaches_the_socket_a_player_reconnected_on_once(gateway: Running) -> None:
    first = await gateway.connect("ada")
    await join(gateway, first, "S1")
    deliver(gateway, score("S1", "ada", 10))
    assert await types_received(first) == ["SCORE_UPDATED"]
    await first.close()

    again = await gateway.connect("ada")  # resends the answer: on_command replays its verdict
    await join(gateway, again, "S1")
    deliver(gateway, score("S1", "ada", 10))
    deliver(gateway, score("S1", "ada", 10))
    assert await types_received(again) == ["SCORE_UPDATED"]


async def test_errors_echoing_the_same_client_id_reach_both_players(gateway: Running) -> None:
    ada, bob = await gateway.connect("ada"), await gateway.connect("bob")
    commands = [await join(gateway, ws, "S1") for ws in (ada, bob)]
    refusal = error_frame(ErrorCode.QUESTION_CLOSED, "closed", message_id="m1")  # both sent "m1"
    for command in commands:
        to_its_sender = Event("S1", refusal, target_uid=command.uid, target_connection=command.connection_id)
        deliver(gateway, to_its_sender)
    assert await types_received(ada) == ["ERROR"]
    assert await types_received(bob) == ["ERROR"]


async def test_late_copy_of_a_join_does_not_put_a_player_who_left_back_in_the_room(gateway: Running) -> None:
    ws = await gateway.connect("ada")
    joined = await join(gateway, ws, "S1")
    left = server_frame(ServerType.USER_LEFT, {"user_id": "ada"})
    deliver(gateway, Event("S1", left, target_uid="ada", room=ROOM_LEAVE))  # as LEAVE_SESSION ends
    assert await types_received(ws) == ["USER_LEFT"]
    # The SESSION_JOINED that `join` delivered, once more, late.
    again = server_frame(
        ServerType.SESSION_JOINED, {"session_id": "S1"}, message_id=f"j-{joined.frame['message_id']}"
    )
    deliver(gateway, Event("S1", again, target_connection=joined.connection_id, room=ROOM_ENTER))
    deliver(gateway, question("S1", 0))
    assert await types_received(ws) == []


async def test_copy_of_a_leaderboard_is_not_shown_again_by_its_pacer(gateway: Running) -> None:
    """A regression guard, not repeats.py's: boards are never looked up by id (see
    test_fan_out_looks_an_event_up_once_per_copy_and_never_a_board); the session's
    BoardPacer drops a board no newer than the last it sent."""
    ws = await gateway.connect("ada")
    await join(gateway, ws, "S1")
    board = server_frame(
        ServerType.LEADERBOARD_UPDATED,
        {"session_id": "S1", "version": 3, "top": [], "ranks": {"ada": 1}},
        message_id="lb-S1-3",
    )
    deliver(gateway, Event("S1", board))
    assert (await frames_until(ws, "LEADERBOARD_UPDATED"))[-1]["payload"]["your_rank"] == 1
    await asyncio.sleep(0.15)  # past the gap
    deliver(gateway, Event("S1", board))
    await asyncio.sleep(0.15)
    assert await types_received(ws) == []


async def test_event_published_with_no_id_attribute_is_still_deduplicated_by_its_frame_id(
    gateway: Running,
) -> None:
    """The gateway reads every event's id from its frame, bundled or not: a publisher that
    sets no attribute beyond the session's (an older deploy of the functions) is covered."""
    ws = await gateway.connect()
    await join(gateway, ws, "S1")
    frame = question("S1", 0).frame
    gateway.events.publish(frame, session_id="S1")
    gateway.events.publish(frame, session_id="S1")
    assert await types_received(ws) == ["QUESTION_STARTED"]


def test_events_are_published_with_no_id_attribute() -> None:
    """One way to find an event's id (its frame): the attributes say only where it goes."""
    ((_, _, attributes),) = messages_for([question("S1", 0)])
    assert attributes == {"session_id": "S1"}


class CountedSentEvents(SentEvents):
    """SentEvents counting its lookups (a lookup per event is the fan-out's cost per event)."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def last_sent_ns(self, key: str, now_ns: int) -> int | None:
        self.lookups += 1
        return super().last_sent_ns(key, now_ns)


async def test_fan_out_looks_an_event_up_once_per_copy_and_never_a_board(gateway: Running) -> None:
    ws = await gateway.connect("ada")
    await join(gateway, ws, "S1")
    counted = gateway.gateway.fanout.sent = CountedSentEvents()
    deliver(gateway, question("S1", 0))
    deliver(gateway, question("S1", 0))
    board = server_frame(ServerType.LEADERBOARD_UPDATED, {"version": 1, "top": [], "ranks": {}})
    deliver(gateway, Event("S1", board))
    assert counted.lookups == 2
    await frames_until(ws, "LEADERBOARD_UPDATED")


async def test_question_copy_after_20000_per_player_events_is_still_not_sent_twice(
    gateway_with: Callable[..., Awaitable[Running]],
) -> None:
    """10,000 players on one gateway make 10,000 SCORE_UPDATED ids a question: a copy of
    the question redelivered after them (past the 10 s ack deadline) must still be known."""
    gateway = await gateway_with(SEND_BUFFER_LIMIT_BYTES=str(64 * 1024 * 1024))
    ada, bob = await gateway.connect("ada"), await gateway.connect("bob")
    for ws in (ada, bob):
        await join(gateway, ws, "S1")
    deliver(gateway, question("S1", 0))
    for batch in range(200):  # 20,000 per-player events, in bundles of 100 as batches publish them
        scores = [
            Event(
                "S1",
                server_frame(ServerType.SCORE_UPDATED, {"n": n}, message_id=f"score-{n}"),
                target_uid="ada",
            )
            for n in range(batch * 100, batch * 100 + 100)
        ]
        deliver(gateway, *scores)
        await asyncio.sleep(0)  # let the sockets read
    deliver(gateway, question("S1", 0))  # the copy
    assert Counter(await types_received(ada)) == {"QUESTION_STARTED": 1, "SCORE_UPDATED": 20_000}
    assert await types_received(bob) == ["QUESTION_STARTED"]


def test_sent_events_are_remembered_for_a_window_then_forgotten() -> None:
    sent = SentEvents(window_s=1.0, max_ids=100)
    sent.last_sent_ns("a", 0)
    sent.sent("a", 0)
    assert sent.last_sent_ns("a", 999_999_999) == 0
    assert sent.last_sent_ns("a", 1_500_000_000) == 0  # the previous window is still kept
    assert sent.last_sent_ns("a", 2_600_000_000) is None


def test_sent_events_keep_at_most_two_windows_of_max_ids() -> None:
    sent = SentEvents(window_s=3600.0, max_ids=100)
    for n in range(1000):
        sent.last_sent_ns(str(n), n)
        sent.sent(str(n), n)
    assert len(sent) <= 200
    assert sent.last_sent_ns("999", 1000) == 999


def test_frame_message_id_is_the_frames_own_not_a_payload_key_of_that_name() -> None:
    frame = server_frame(ServerType.SCORE_UPDATED, {"message_id": "not-this"}, message_id="score-u1_q1")
    assert frame_message_id(encode_frame(frame).encode()) == "score-u1_q1"


def test_frame_message_id_reads_an_id_that_runs_past_the_searched_prefix() -> None:
    """Answer ids hold a uid (up to 128 characters): the id may end well past the bytes
    its key is looked for in."""
    long_id = "score-" + "u" * 128 + "_q1"
    frame = encode_frame(server_frame(ServerType.LEADERBOARD_UPDATED, {}, message_id=long_id)).encode()
    assert frame.index(long_id.encode()) + len(long_id) > _ID_WITHIN
    assert frame_message_id(frame) == long_id


def test_frame_message_id_of_an_id_with_an_escaped_quote_is_the_whole_id() -> None:
    frame = encode_frame(server_frame(ServerType.ERROR, {}, message_id='a"b')).encode()
    assert frame_message_id(frame) == 'a"b'


def test_frame_without_a_message_id_has_none() -> None:
    assert frame_message_id(b'{"type":"X","payload":{}}') is None


def test_event_key_of_an_id_differs_by_address() -> None:
    """Client-chosen ids (echoed by an ERROR) are unique per client only."""
    assert event_key("m1", "S1", "u1", "") != event_key("m1", "S1", "u2", "")
    assert event_key("m1", "S1", "", "c1") != event_key("m1", "S1", "", "c2")


async def test_question_sent_again_to_a_joining_connection_reaches_only_a_socket_that_missed_it(
    gateway: Running,
) -> None:
    """A (re)join is answered with the open question, under its frame id: a socket in the
    room since it went out (a late copy of its JOIN) does not get it twice; a socket that
    was open but joined after it went out does."""
    ada, bob = await gateway.connect("ada"), await gateway.connect("bob")
    ada_join = await join(gateway, ada, "S1")
    deliver(gateway, question("S1", 0))  # bob is connected but not in the room yet
    assert await types_received(ada) == ["QUESTION_STARTED"]
    bob_join = await join(gateway, bob, "S1")
    for command in (ada_join, bob_join):
        frame = question("S1", 0).frame
        deliver(gateway, Event("S1", frame, target_connection=command.connection_id))
    assert await types_received(ada) == []
    assert [f["payload"]["index"] for f in await ping(bob)] == [0]


async def test_copy_of_the_join_that_put_a_socket_in_the_room_is_not_shown_again(gateway: Running) -> None:
    ws = await gateway.connect("ada")
    joined = await join(gateway, ws, "S1")
    again = server_frame(
        ServerType.SESSION_JOINED, {"session_id": "S1"}, message_id=f"j-{joined.frame['message_id']}"
    )
    deliver(gateway, Event("S1", again, target_connection=joined.connection_id, room=ROOM_ENTER))
    assert await types_received(ws) == []


async def test_copy_of_a_held_presence_frame_does_not_reach_a_socket_that_entered_while_it_waited(
    gateway: Running,
) -> None:
    """A presence frame that meets a busy gap waits for its end and then goes to every
    socket in the room, those that entered meanwhile too: its copy must not reach them."""
    ada, bob = await gateway.connect("ada"), await gateway.connect("bob")
    await join(gateway, ada, "S1")
    joined = [server_frame(ServerType.USER_JOINED, {"user_id": f"p{i}"}) for i in range(2)]
    deliver(gateway, Event("S1", joined[0]), Event("S1", joined[1]))  # the second waits for the gap
    await join(gateway, bob, "S1")
    await asyncio.sleep(0.6)  # past the gap: the held frame went out
    deliver(gateway, Event("S1", joined[1]))  # a copy, late
    assert [f["payload"]["user_id"] for f in await ping(ada)] == ["p0", "p1"]
    assert [f["payload"]["user_id"] for f in await ping(bob)] == ["p1"]


async def test_copy_of_a_presence_frame_still_held_reaches_nobody_twice(gateway: Running) -> None:
    """The copy comes while the frame waits for its gap, after a socket entered: the held
    frame reaches that socket at the gap's end, and the copy nobody."""
    ada, bob, cy = [await gateway.connect(uid) for uid in ("ada", "bob", "cy")]
    await join(gateway, ada, "S1")
    await join(gateway, cy, "S1")
    joined = [server_frame(ServerType.USER_JOINED, {"user_id": f"p{i}"}) for i in range(2)]
    deliver(gateway, Event("S1", joined[0]), Event("S1", joined[1]))  # the second waits for the gap
    await join(gateway, bob, "S1")
    deliver(gateway, Event("S1", joined[1]))  # a copy, while the first is still held
    await asyncio.sleep(0.6)
    deliver(gateway, Event("S1", joined[0]))  # a late copy: bob entered after it went out
    assert [f["payload"]["user_id"] for f in await ping(ada)] == ["p0", "p1"]
    assert [f["payload"]["user_id"] for f in await ping(bob)] == ["p1", "p0"]
    assert [f["payload"]["user_id"] for f in await ping(cy)] == ["p0", "p1"]
