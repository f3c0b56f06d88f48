"""What a swarm run plays: its quiz, its sessions (through the host API) and the plan every
worker process gets."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bots.tokens import unsigned_id_token

GATEWAY, SOCKETIO = "gateway", "socketio"


@dataclass(frozen=True)
class Plan:
    """What every worker process needs to play its slice of the players."""

    transport: str  # GATEWAY or SOCKETIO
    ws_url: str
    origin: str | None
    session_ids: list[str]
    questions: int
    time_limit_s: float
    seed: int
    run_id: str


def make_quiz(questions: int, time_limit_s: int) -> dict[str, Any]:
    return {
        "id": f"swarm-{uuid.uuid4().hex[:8]}",
        "title": "Swarm quiz",
        "questions": [
            {
                "id": f"q{i}",
                "kind": "choice",
                "text": f"Question {i}",
                "options": ["right", "wrong", "other", "none"],
                "accepted": ["right"],
                "time_limit_s": time_limit_s,
            }
            for i in range(questions)
        ],
    }


async def create_sessions(
    api_url: str, host_uid: str, quiz: dict[str, Any], sessions: int, max_participants: int
) -> list[str]:
    """Upload the quiz and create the sessions through the host API (auto-advance on)."""
    headers = {"Authorization": f"Bearer {unsigned_id_token(host_uid)}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        (await http.post("/api/v1/quizzes", content=json.dumps(quiz))).raise_for_status()
        ids = []
        for _ in range(sessions):
            body = {"quiz_id": quiz["id"], "auto_advance": True, "max_participants": max_participants}
            response = await http.post("/api/v1/sessions", json=body)
            response.raise_for_status()
            ids.append(response.json()["session_id"])
        return ids


async def start_sessions(api_url: str, host_uid: str, session_ids: list[str]) -> None:
    headers = {"Authorization": f"Bearer {unsigned_id_token(host_uid)}"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as http:
        for session_id in session_ids:
            (await http.post(f"/api/v1/sessions/{session_id}/start")).raise_for_status()
