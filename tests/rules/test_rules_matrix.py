"""Every actor x collection x operation against the real rules, one test per cell.

The game (tests/rules/harness.py Game): session S mid-game, question q1 revealed and left
behind, q2 open; "participant" owns the targeted participant and answer documents;
"other participant" plays in S too; "other host" hosts another session; "stranger" is
signed in but in no session; "anonymous" sends no token.
Targets: quizzes/{quiz} (the host's private upload), quizzes/{quiz}/private/key,
quizzes/{library quiz} (public, no owner), sessions/S, sessions/S/private/quiz,
participants/{participant}, names/{participant's name}, banned/{kicked}, the participant's
answer to q2 (answers-open) and to q1 (answers-closed), public/leaderboard, and the host's
quota counter (quotas/{host}_sessions_{day}).
`list` is the query a client would run there: sessions where host_uid == S's host; quizzes
where owner_uid == S's host, or public == true; quotas where uid == S's host; answers where
question_id == that question; every other collection whole.
create = create that document (deleted first by the admin), update = patch one field,
delete = delete it. allow = 200; deny = 403 PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.rules.harness import Firestore, Game

pytestmark = pytest.mark.stack

TABLE = """
collection        op      anonymous participant other_participant host  other_host stranger
quizzes           get     deny      deny        deny              deny  deny       deny
quizzes           list    deny      deny        deny              deny  deny       deny
quizzes-private   get     deny      deny        deny              deny  deny       deny
quizzes-private   list    deny      deny        deny              deny  deny       deny
quizzes-library   get     deny      deny        deny              deny  deny       deny
quizzes-library   list    deny      deny        deny              deny  deny       deny
sessions          get     deny      allow       allow             allow deny       deny
sessions          list    deny      deny        deny              allow deny       deny
sessions-private  get     deny      deny        deny              deny  deny       deny
sessions-private  list    deny      deny        deny              deny  deny       deny
participants      get     deny      allow       deny              allow deny       deny
participants      list    deny      deny        deny              allow deny       deny
names             get     deny      deny        deny              deny  deny       deny
names             list    deny      deny        deny              deny  deny       deny
banned            get     deny      deny        deny              deny  deny       deny
banned            list    deny      deny        deny              deny  deny       deny
answers-open      get     deny      deny        deny              allow deny       deny
answers-open      list    deny      deny        deny              allow deny       deny
answers-closed    get     deny      allow       deny              allow deny       deny
answers-closed    list    deny      deny        deny              allow deny       deny
leaderboard       get     deny      allow       allow             allow deny       deny
leaderboard       list    deny      deny        deny              deny  deny       deny
quotas            get     deny      deny        deny              deny  deny       deny
quotas            list    deny      deny        deny              deny  deny       deny
*                 create  deny      deny        deny              deny  deny       deny
*                 update  deny      deny        deny              deny  deny       deny
*                 delete  deny      deny        deny              deny  deny       deny
"""

Target = Callable[[Game], str]
TARGETS: dict[str, Target] = {
    "quizzes": lambda g: f"quizzes/{g.quiz_id}",
    "quizzes-private": lambda g: f"quizzes/{g.quiz_id}/private/key",
    "quizzes-library": lambda g: f"quizzes/{g.library_quiz_id}",
    "sessions": lambda g: g.session,
    "sessions-private": lambda g: f"{g.session}/private/quiz",
    "participants": lambda g: f"{g.session}/participants/{g.player}",
    "names": lambda g: f"{g.session}/names/player-{g.tag}",
    "banned": lambda g: f"{g.session}/banned/{g.kicked}",
    "answers-open": lambda g: g.answer(g.player, g.open_question),
    "answers-closed": lambda g: g.answer(g.player, g.closed_question),
    "leaderboard": lambda g: f"{g.session}/public/leaderboard",
    "quotas": lambda g: g.quota,
}
# The filter a client's query on that collection carries, if any.
FILTERS: dict[str, Callable[[Game], tuple[str, Any]]] = {
    "sessions": lambda g: ("host_uid", g.host),
    "quizzes": lambda g: ("owner_uid", g.host),
    "quizzes-library": lambda g: ("public", True),
    "quotas": lambda g: ("uid", g.host),
    "answers-open": lambda g: ("question_id", g.open_question),
    "answers-closed": lambda g: ("question_id", g.closed_question),
}
ACTORS: dict[str, Callable[[Game], str | None]] = {
    "anonymous": lambda g: None,
    "participant": lambda g: g.player,
    "other_participant": lambda g: g.other_player,
    "host": lambda g: g.host,
    "other_host": lambda g: g.other_host,
    "stranger": lambda g: g.stranger,
}


def cells() -> list[Any]:
    header, *rows = (line.split() for line in TABLE.strip().splitlines())
    actors = header[2:]
    assert actors == list(ACTORS), "the table's columns are the actors"
    found = []
    for collection, op, *outcomes in rows:
        for target in TARGETS if collection == "*" else [collection]:
            for actor, outcome in zip(actors, outcomes, strict=True):
                found.append(pytest.param(target, op, actor, outcome, id=f"{actor}-{op}-{target}-{outcome}"))
    return found


def act(firestore: Firestore, game: Game, collection: str, op: str, uid: str | None) -> int:
    path = TARGETS[collection](game)
    if op == "get":
        return firestore.get(path, uid)
    if op == "list":
        parent, _, _doc_id = path.rpartition("/")
        parent, _, name = parent.rpartition("/")
        where = FILTERS[collection](game) if collection in FILTERS else None
        status, found = firestore.query(parent, name, uid, where)
        assert status != 200 or found, "an allowed query here returns documents"
        return status
    if op == "create":
        data = game.documents()[path]
        firestore.remove(path)
        return firestore.create(path, data, uid)
    if op == "update":
        return firestore.update(path, {"touched": True}, uid)
    if op == "delete":
        return firestore.delete(path, uid)
    raise ValueError(op)


@pytest.mark.parametrize(("collection", "op", "actor", "outcome"), cells())
def test_actor_operation_matches_table(
    firestore: Firestore, game: Game, collection: str, op: str, actor: str, outcome: str
) -> None:
    status = act(firestore, game, collection, op, ACTORS[actor](game))
    assert status == {"allow": 200, "deny": 403}[outcome]


def test_table_covers_every_actor_collection_and_operation() -> None:
    seen = {(c.values[0], c.values[1], c.values[2]) for c in cells()}
    ops = ("get", "list", "create", "update", "delete")
    assert seen == {(c, o, a) for c in TARGETS for o in ops for a in ACTORS}
