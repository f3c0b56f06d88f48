"""Presence: a player whose socket closes without LEAVE_SESSION (a tab closed, a phone
gone) shows as away to the session, and as back when they REJOIN; a socket closing after
the player came back on another one changes nothing. `participant_count` is the players
present (seated and connected) in every frame that carries it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack


async def _socket(players: list[Player], urls: dict[str, str], token: str, uid: str) -> Player:
    sock = Player(urls["ws"], token, uid, origin=urls["origin"])
    await sock.connect()
    players.append(sock)
    return sock


async def _session_with(
    name: str, host: Host, players: list[Player], urls: dict[str, str]
) -> tuple[str, Player, Player]:
    """(session id, the host's watching socket, a player called `name` who joined it)."""
    session_id = (await host.create_session("vocab-101"))["session_id"]
    host_socket = await _socket(players, urls, host.token, "host")
    await host_socket.send("WATCH_SESSION", {"session_id": session_id})
    await host_socket.expect("SESSION_JOINED")
    player = await add_player(players, urls)
    await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
    await player.expect("SESSION_JOINED")
    await host_socket.expect("USER_JOINED", user_id=player.uid)
    return session_id, host_socket, player


async def _second_socket(
    player: Player, players: list[Player], urls: dict[str, str], session_id: str
) -> Player:
    again = await _socket(players, urls, player.token, player.uid)
    await again.send("REJOIN", {"session_id": session_id})
    await again.expect("SESSION_JOINED")
    return again


async def test_a_socket_closed_without_leaving_shows_the_player_away_until_they_rejoin(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id, host_socket, gus = await _session_with("Gus", host, players, urls)

    await gus.close()  # no LEAVE_SESSION
    away = (await host_socket.expect("USER_LEFT", timeout_s=15))["payload"]
    assert (away["user_id"], away["participant_count"]) == (gus.uid, 0)  # seated, not present

    again = await _second_socket(gus, players, urls, session_id)
    back = (await host_socket.expect("USER_JOINED", timeout_s=15))["payload"]
    assert (back["user_id"], back["username"], back["participant_count"]) == (gus.uid, "Gus", 1)
    assert again.of_type("SESSION_JOINED")[0]["payload"]["participant_count"] == 1


async def test_an_older_socket_closing_after_the_player_is_back_changes_nothing(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id, host_socket, ida = await _session_with("Ida", host, players, urls)
    newer = await _second_socket(ida, players, urls, session_id)  # now her connection

    await ida.close()  # the older socket: its disconnect is stale
    await asyncio.sleep(3)
    assert not host_socket.of_type("USER_LEFT")

    await newer.close()
    away = (await host_socket.expect("USER_LEFT", timeout_s=15))["payload"]
    assert away["user_id"] == ida.uid


async def _join(player: Player, session_id: str, name: str) -> dict[str, Any]:
    await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
    return (await player.expect("SESSION_JOINED"))["payload"]


async def test_the_participant_count_goes_down_when_a_player_leaves_and_up_when_one_joins(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101"))["session_id"]
    ann, ben, cal = [await add_player(players, urls) for _ in range(3)]
    assert (await _join(ann, session_id, "Ann"))["participant_count"] == 1
    assert (await _join(ben, session_id, "Ben"))["participant_count"] == 2
    assert (await ann.expect("USER_JOINED", user_id=ben.uid))["payload"]["participant_count"] == 2

    await ben.send("LEAVE_SESSION", {"session_id": session_id})
    assert (await ann.expect("USER_LEFT", user_id=ben.uid))["payload"]["participant_count"] == 1

    assert (await _join(cal, session_id, "Cal"))["participant_count"] == 2
    assert (await ann.expect("USER_JOINED", user_id=cal.uid))["payload"]["participant_count"] == 2


async def test_a_kick_counts_the_player_out_and_the_host_sees_who_is_present(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101"))["session_id"]
    ann, ben, cal = [await add_player(players, urls) for _ in range(3)]
    for player, name in ((ann, "Ann"), (ben, "Ben"), (cal, "Cal")):
        await _join(player, session_id, name)
    await cal.close()  # away, still seated
    assert (await ann.expect("USER_LEFT", timeout_s=15, user_id=cal.uid))["payload"]["participant_count"] == 2

    response = await host.call("POST", f"/api/v1/sessions/{session_id}/kick", {"user_id": ben.uid})
    assert response.status_code == 200
    kicked = (await ann.expect("USER_LEFT", user_id=ben.uid))["payload"]
    assert (kicked["kicked"], kicked["participant_count"]) == (True, 1)

    host_socket = await _socket(players, urls, host.token, "host")
    await host_socket.send("WATCH_SESSION", {"session_id": session_id})
    watching = (await host_socket.expect("SESSION_JOINED"))["payload"]
    assert watching["participant_count"] == 1
    assert {p["user_id"]: p["connected"] for p in watching["participants"]} == {ann.uid: True, cal.uid: False}
