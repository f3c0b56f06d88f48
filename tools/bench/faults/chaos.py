"""The injectors that act on processes and sockets, fired one after another at seeded
random points of the run's progress (a failure reproduces with the same --seed), each
kind `Options.fault_count()` times, each freeze or pause for a random while: on_command
SIGKILLed, an emulator frozen (Firestore, Pub/Sub, Cloud Tasks), a gateway SIGKILLed,
drained (SIGTERM), paused, or deaf (its events subscription deleted), and players whose
sockets drop and who REJOIN at once. What each fired, and what it affected, goes into
the report."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.faults.report import Report
from devstack.processes import frozen
from devstack.stack import EVENTS_TOPIC, PROJECT_ID

if TYPE_CHECKING:
    from bench.faults.ledger import Ledger
    from bench.faults.players import AnswerRecord

DROPPED_SHARE = 0.1  # of the players, the share whose sockets drop at a disconnect-rejoin


@dataclass
class Fired:
    kind: str
    at_s: float  # into the run
    start_ms: int
    end_ms: int = 0
    detail: str = ""
    bots_moved: int = 0  # players whose socket the fault closed or dropped


@dataclass(eq=False)
class Chaos:
    ledger: Ledger
    rng: random.Random
    fired: list[Fired] = field(default_factory=list)

    def plan(self) -> list[tuple[float, str]]:
        """(progress, kind): each kind `fault_count` times at seeded random points."""
        options = self.ledger.options
        points = [
            (self.rng.uniform(0.04, 0.9), kind)
            for kind in sorted(options.chaos)
            for _ in range(options.fault_count())
        ]
        return sorted(points)

    async def run(self) -> None:
        """Fire the plan in order (a fault ends before the next begins); cancelled at the
        end of the game, whatever is left unfired."""
        faults: dict[str, Callable[[Fired], Awaitable[None]]] = {
            "kill": self._kill,
            "freeze-firestore": lambda f: self._freeze(f, "firestore"),
            "freeze-pubsub": lambda f: self._freeze(f, "pubsub"),
            "freeze-tasks": lambda f: self._freeze(f, "tasks"),
            "gateway-kill": self._gateway_kill,
            "gateway-drain": self._gateway_drain,
            "gateway-pause": self._gateway_pause,
            "events-lost": self._events_lost,
            "disconnect-rejoin": self._disconnect_rejoin,
        }
        for progress, kind in self.plan():
            while self.ledger.progress() < progress:
                await asyncio.sleep(0.1)
            await asyncio.sleep(self.rng.uniform(0, 1.5))  # anywhere in a question
            fired = Fired(kind, time.monotonic() - self.ledger.t0, _now_ms())
            self.fired.append(fired)
            await faults[kind](fired)
            fired.end_ms = _now_ms()
            self.ledger.say(f"fault: {kind} {fired.detail}")

    def _while(self) -> float:
        return self.rng.uniform(*self.ledger.options.fault_s)

    async def _kill(self, fired: Fired) -> None:
        await asyncio.to_thread(self.ledger.stack.restart, "on_command")
        fired.detail = "on_command SIGKILLed, restarted"

    async def _freeze(self, fired: Fired, name: str) -> None:
        seconds = self._while()
        with frozen(self.ledger.stack.child(name)):
            await asyncio.sleep(seconds)
        fired.detail = f"{name} frozen {seconds:.1f} s"

    async def _gateway_kill(self, fired: Fired) -> None:
        """Pub/Sub frozen first, so frames are in flight, not yet acknowledged, when the
        gateway dies: its players resend them elsewhere under the same message_id."""
        gateway = self.rng.choice(self.ledger.ledger_gateways())
        fired.bots_moved = self.ledger.bots_on(gateway)
        self.ledger.retire(gateway)
        with frozen(self.ledger.stack.child("pubsub")):
            await asyncio.sleep(1.0)
            os.killpg(gateway.child.process.pid, signal.SIGKILL)
            await asyncio.to_thread(gateway.child.process.wait)
            await asyncio.sleep(1.0)
        await asyncio.to_thread(delete_events_subscription, gateway.gateway_id)  # it cannot
        await self.ledger.replace(gateway)
        fired.detail = f"{gateway.gateway_id} SIGKILLed with Pub/Sub frozen"

    async def _gateway_drain(self, fired: Fired) -> None:
        gateway = self.rng.choice(self.ledger.ledger_gateways())
        fired.bots_moved = self.ledger.bots_on(gateway)
        self.ledger.retire(gateway)
        os.killpg(gateway.child.process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(gateway.child.process.wait), 30)
            fired.detail = f"{gateway.gateway_id} drained (SIGTERM)"
        except TimeoutError:
            os.killpg(gateway.child.process.pid, signal.SIGKILL)
            fired.detail = f"{gateway.gateway_id} did not drain in 30 s: SIGKILLed"
        await self.ledger.replace(gateway)

    async def _gateway_pause(self, fired: Fired) -> None:
        gateway = self.rng.choice(self.ledger.ledger_gateways())
        seconds = self._while()
        with frozen(gateway.child):
            await asyncio.sleep(seconds)
        fired.detail = f"{gateway.gateway_id} paused {seconds:.1f} s"

    async def _events_lost(self, fired: Fired) -> None:
        gateway = self.rng.choice(self.ledger.ledger_gateways())
        fired.bots_moved = self.ledger.bots_on(gateway)
        await asyncio.to_thread(delete_events_subscription, gateway.gateway_id)
        fired.detail = f"{gateway.gateway_id}'s events subscription deleted"

    async def _disconnect_rejoin(self, fired: Fired) -> None:
        bots = [b for b in self.ledger.bots if b.connected.is_set()]
        dropped = self.rng.sample(bots, max(1, round(len(bots) * DROPPED_SHARE)))
        for bot in dropped:
            await bot.drop_and_rejoin()
        fired.bots_moved = len(dropped)
        fired.detail = f"{len(dropped)} sockets dropped"

    def count_into(self, report: Report) -> None:
        """Per kind: how often it fired, for how long, the answers in flight meanwhile
        (sent before it ended and not yet scored or refused when it began) and the players
        it moved."""
        records = [r for b in self.ledger.bots for r in b.records.values()]
        for fired in self.fired:
            row = report.fault_kinds.setdefault(
                fired.kind, {"fired": 0, "seconds": 0, "answers in flight": 0, "players moved": 0}
            )
            row["fired"] += 1
            row["seconds"] += round((fired.end_ms - fired.start_ms) / 1000)
            row["answers in flight"] += sum(
                r.sent_at_ms <= fired.end_ms and _settled_ms(r) >= fired.start_ms for r in records
            )
            row["players moved"] += fired.bots_moved
            report.fault_events.append(f"{fired.at_s:6.1f}s {fired.kind}: {fired.detail}")


def _settled_ms(record: AnswerRecord) -> float:
    return record.settled_at_ms or float("inf")


def _now_ms() -> int:
    return int(time.time() * 1000)


def delete_events_subscription(gateway_id: str) -> None:
    """A gateway's quiz-events subscription, gone (a SIGKILLed gateway cannot delete its own)."""
    from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

    subscriber = pubsub_v1.SubscriberClient()
    with contextlib.suppress(Exception):
        subscriber.delete_subscription(
            subscription=subscriber.subscription_path(PROJECT_ID, f"{EVENTS_TOPIC}-gw-{gateway_id}"),
            timeout=10,
        )
