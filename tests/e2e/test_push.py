"""The local push stand-in (local/devstack/pusher.py) against the real Pub/Sub emulator: each
test pulls its own subscription and pushes to a recording endpoint in this process, so
what the endpoint answers, and when, is the test's to choose."""

from __future__ import annotations

import asyncio
import base64
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from google.cloud import pubsub_v1  # type: ignore[attr-defined,unused-ignore]

from devstack.push_messages import PushSettings
from devstack.pusher import Pusher, make_clients, make_http_client
from devstack.stack import COMMANDS_SUBSCRIPTION, PROJECT_ID

pytestmark = pytest.mark.stack

SUBSCRIPTION_ACK_DEADLINE_S = 10  # Pub/Sub's minimum: the shortest wait that proves "not redelivered"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$")

Answer = Callable[[dict[str, Any]], Awaitable[int]]


@dataclass
class Delivery:
    at: float
    body: dict[str, Any]
    headers: dict[str, str]
    path: str

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.body["message"]["data"])


@dataclass
class Rig:
    """A topic, its pull subscription, a pusher on it and the endpoint it pushes to."""

    topic: str
    subscription: str
    publisher: Any
    deliveries: list[Delivery] = field(default_factory=list)
    running: int = 0
    most_running: int = 0

    async def publish(self, data: bytes, ordering_key: str = "", **attributes: str) -> str:
        future = self.publisher.publish(self.topic, data, ordering_key=ordering_key, **attributes)
        return str(await asyncio.wrap_future(future))

    def of(self, message_id: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.body["message"]["messageId"] == message_id]

    async def wait_for(self, count: int, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"{len(self.deliveries)} of {count} deliveries"
            await asyncio.sleep(0.05)


async def _ok(body: dict[str, Any]) -> int:
    return 200


@asynccontextmanager
async def pushing(
    stack: Any,
    answer: Answer = _ok,
    max_in_flight: int = 32,
    push_deadline_s: int = 60,
    dead_letter_topic: str = "",
    max_delivery_attempts: int = 0,
) -> AsyncIterator[Rig]:
    name = f"push-test-{uuid.uuid4().hex[:8]}"
    publisher = pubsub_v1.PublisherClient(
        publisher_options=pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
    )
    subscriber_admin = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT_ID, name)
    subscription = subscriber_admin.subscription_path(PROJECT_ID, name)
    publisher.create_topic(name=topic)
    subscriber_admin.create_subscription(
        name=subscription, topic=topic, ack_deadline_seconds=SUBSCRIPTION_ACK_DEADLINE_S
    )
    rig = Rig(topic, subscription, publisher)

    async def handle(request: web.Request) -> web.Response:
        rig.deliveries.append(
            Delivery(time.monotonic(), await request.json(), dict(request.headers), request.path)
        )
        rig.running += 1
        rig.most_running = max(rig.most_running, rig.running)
        try:
            return web.Response(status=await answer(rig.deliveries[-1].body))
        finally:
            rig.running -= 1

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    settings = PushSettings(
        subscription,
        f"http://127.0.0.1:{port}/",
        max_in_flight=max_in_flight,
        ack_deadline_s=push_deadline_s,
        max_delivery_attempts=max_delivery_attempts,
        dead_letter_topic=dead_letter_topic,
    )
    subscriber, publisher_client, channel = make_clients(stack.endpoints["pubsub"].address)
    stop = asyncio.Event()
    try:
        async with make_http_client(settings) as http:
            pusher = asyncio.create_task(Pusher(settings, subscriber, http, publisher_client).run(stop))
            try:
                yield rig
            finally:
                stop.set()
                await pusher
    finally:
        await channel.close()
        await runner.cleanup()
        subscriber_admin.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)


async def test_pusher_posts_each_message_in_the_documented_push_format(stack: Any) -> None:
    async with pushing(stack) as rig:
        plain = await rig.publish(b'{"type":"PING"}', uid="u1", received_at_ms="17")
        keyed = await rig.publish(b"second", ordering_key="SESSION1")
        await rig.wait_for(2)

    (first,) = rig.of(plain)
    assert first.path == "/" and first.headers["Content-Type"] == "application/json"
    assert set(first.body) == {"message", "subscription", "deliveryAttempt"}
    assert first.body["subscription"] == rig.subscription and first.body["deliveryAttempt"] == 1
    message = first.body["message"]
    assert set(message) == {"data", "attributes", "messageId", "message_id", "publishTime", "publish_time"}
    assert first.data == b'{"type":"PING"}'
    assert message["attributes"] == {"uid": "u1", "received_at_ms": "17"}
    assert message["messageId"] == message["message_id"] == plain
    assert message["publishTime"] == message["publish_time"] and RFC3339_UTC.match(message["publishTime"])
    (second,) = rig.of(keyed)
    assert second.body["message"]["orderingKey"] == "SESSION1" and second.data == b"second"


async def test_pusher_keeps_many_pushes_in_flight_for_a_slow_endpoint(stack: Any) -> None:
    async def slow(body: dict[str, Any]) -> int:
        await asyncio.sleep(1.5)
        return 200

    async with pushing(stack, slow, max_in_flight=16) as rig:
        started = time.monotonic()
        await asyncio.gather(*(rig.publish(f"m{i}".encode()) for i in range(40)))
        await rig.wait_for(40, timeout_s=30)
        while rig.running:
            await asyncio.sleep(0.05)
        elapsed_s = time.monotonic() - started

    assert 8 <= rig.most_running <= 16, rig.most_running
    assert elapsed_s < 40 * 1.5 / 4, f"40 slow pushes took {elapsed_s:.1f} s"
    assert sorted(d.data for d in rig.deliveries) == sorted(f"m{i}".encode() for i in range(40))


async def test_pusher_redelivers_a_5xx_after_the_backoff_and_never_a_2xx(stack: Any) -> None:
    async def fail_once(body: dict[str, Any]) -> int:
        failing = body["message"]["attributes"].get("fail") == "yes"
        return 503 if failing and body["deliveryAttempt"] == 1 else 200

    async with pushing(stack, fail_once) as rig:
        failed = await rig.publish(b"retry me", fail="yes")
        fine = await rig.publish(b"once")
        await rig.wait_for(3)
        # Past the subscription's ack deadline: an unacknowledged message would be back.
        await asyncio.sleep(SUBSCRIPTION_ACK_DEADLINE_S + 2)

    first, second = rig.of(failed)
    assert [first.body["deliveryAttempt"], second.body["deliveryAttempt"]] == [1, 2]
    assert second.at - first.at >= 0.9, "retried before the retry policy's 1 s minimum backoff"
    assert len(rig.of(fine)) == 1


async def test_pusher_retries_a_push_left_unanswered_past_the_deadline(stack: Any) -> None:
    async def hang_once(body: dict[str, Any]) -> int:
        if body["deliveryAttempt"] == 1:
            await asyncio.sleep(5)
        return 204

    async with pushing(stack, hang_once, push_deadline_s=2) as rig:
        message_id = await rig.publish(b"slow")
        await rig.wait_for(2, timeout_s=15)

    first, second = rig.of(message_id)
    assert second.body["deliveryAttempt"] == 2 and second.at - first.at >= 2.5


async def test_pusher_does_not_redeliver_poison_the_endpoint_acknowledged(stack: Any) -> None:
    # What on_command does with a command it can never handle: log it and answer 2xx.
    async with pushing(stack) as rig:
        garbage = await rig.publish(b"\xff\xfe\xfd not UTF-8", uid="p1")
        empty = await rig.publish(b"", uid="p2")
        bare = await rig.publish(b"[1, 2, 3]")
        await rig.wait_for(3)
        await asyncio.sleep(SUBSCRIPTION_ACK_DEADLINE_S + 2)

    assert [len(rig.of(m)) for m in (garbage, empty, bare)] == [1, 1, 1]
    assert rig.of(garbage)[0].data == b"\xff\xfe\xfd not UTF-8"
    assert rig.of(empty)[0].body["message"]["data"] == ""
    assert rig.of(bare)[0].body["message"]["attributes"] == {}


async def test_pusher_dead_letters_a_message_after_its_last_allowed_delivery_fails(stack: Any) -> None:
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    name = f"push-test-dead-{uuid.uuid4().hex[:8]}"
    dead_topic, dead_pull = (
        publisher.topic_path(PROJECT_ID, name),
        subscriber.subscription_path(PROJECT_ID, name),
    )
    publisher.create_topic(name=dead_topic)
    subscriber.create_subscription(name=dead_pull, topic=dead_topic)

    async def refuse(body: dict[str, Any]) -> int:
        return 503 if body["message"]["attributes"].get("fail") == "yes" else 200

    try:
        async with pushing(stack, refuse, dead_letter_topic=dead_topic, max_delivery_attempts=3) as rig:
            doomed = await rig.publish(b"never", fail="yes", uid="u1")
            fine = await rig.publish(b"fine")
            await rig.wait_for(4, timeout_s=20)
            await asyncio.sleep(SUBSCRIPTION_ACK_DEADLINE_S + 2)  # acknowledged: not back
        pulled = subscriber.pull(subscription=dead_pull, max_messages=10, timeout=10)
    finally:
        subscriber.delete_subscription(subscription=dead_pull)
        publisher.delete_topic(topic=dead_topic)

    assert [d.body["deliveryAttempt"] for d in rig.of(doomed)] == [1, 2, 3]
    assert len(rig.of(fine)) == 1
    (dead,) = pulled.received_messages
    assert dead.message.data == b"never"
    attributes = dict(dead.message.attributes)
    assert attributes["fail"] == "yes" and attributes["uid"] == "u1"
    assert attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"
    assert attributes["CloudPubSubDeadLetterSourceSubscription"] == rig.subscription.rsplit("/", 1)[-1]


def test_stack_delivers_commands_through_its_pusher_not_the_emulators_push(stack: Any) -> None:
    subscriber = pubsub_v1.SubscriberClient()
    found = subscriber.get_subscription(
        subscription=subscriber.subscription_path(PROJECT_ID, COMMANDS_SUBSCRIPTION)
    )
    assert not found.push_config.push_endpoint, "the emulator would push one message at a time"
    assert stack.child("pusher").process.poll() is None
    assert "push delivery started" in (stack.log_dir / "pusher.log").read_text()
