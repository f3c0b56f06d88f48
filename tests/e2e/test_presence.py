"""Presence: a player whose socket closes without LEAVE_SESSION (a tab closed, a phone
gone) shows as away to the session, and as back when they REJOIN; a socket closing after
the player came back on another one changes nothing."""

from __future__ import annotations

import asyncio

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
    assert (away["user_id"], away["participant_count"]) == (gus.uid, 1)  # still seated

    await _second_socket(gus, players, urls, session_id)
    back = (await host_socket.expect("USER_JOINED", timeout_s=15))["payload"]
    assert (back["user_id"], back["username"]) == (gus.uid, "Gus")


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
