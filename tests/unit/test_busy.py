"""A transaction that outlasts the Firestore client's own retries is Busy: nothing was
written, so every entry point answers 503 and its sender tries again. It is never
acknowledged as if it could not succeed (a dropped timer task would stall the quiz)."""

from __future__ import annotations

from typing import Any

import flask
import pytest
from google.api_core import exceptions as gexc

from devstack.stack import functions_main
from vocabquiz.adapters import documents
from vocabquiz.domain.errors import Busy
from vocabquiz.service.api import Caller, create_app


def _exhausted(_txn: Any) -> None:
    """What firestore's @transactional raises after its last ABORTED attempt."""
    try:
        raise gexc.Aborted("Transaction lock timeout.")
    except gexc.Aborted as last:
        raise ValueError("Failed to commit transaction in 5 attempts.") from last


class _Client:
    def transaction(self) -> object:
        return object()


def test_a_transaction_that_stays_contended_is_busy() -> None:
    with pytest.raises(Busy, match="5 attempts"):
        documents.commit(_Client(), _exhausted)  # type: ignore[arg-type]


def test_any_other_value_error_in_a_transaction_is_not_busy() -> None:
    def broken(_txn: Any) -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        documents.commit(_Client(), broken)  # type: ignore[arg-type]


class _BusyGame:
    def next_question(self, session_id: str, uid: str) -> None:
        raise Busy("Failed to commit transaction in 5 attempts.")


def test_host_api_answers_busy_with_503_and_retry_after() -> None:
    app = create_app(_BusyGame, lambda token: Caller("host-1", anonymous=False), frozenset())
    reply = app.test_client().post("/api/v1/sessions/ABC123/next", headers={"Authorization": "Bearer t"})
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "1"
    assert reply.get_json()["error"]["code"] == "INTERNAL"


@pytest.mark.parametrize("entry_point", ["flush_leaderboard", "advance_question"])
def test_task_that_is_busy_answers_503_so_cloud_tasks_retries(
    entry_point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GOOGLE_CLOUD_PROJECT", "FLUSH_URL", "TIMER_URL"):  # main builds the API at import
        monkeypatch.setenv(name, "unused")
    main = functions_main()

    class Game:
        def flush_leaderboard(self, *args: Any) -> None:
            raise Busy("contended")

        on_timer = flush_leaderboard

    monkeypatch.setattr(main, "game", Game)
    body = {"session_id": "ABC123", "window": 1, "action": "reveal", "index": 0}
    with flask.Flask(__name__).test_request_context(json=body):
        assert getattr(main, entry_point)(flask.request) == ("", 503)
