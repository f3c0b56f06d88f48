"""The local push stand-in without I/O: the body it POSTs is push's documented wrapped
format and becomes the same CloudEvent functions-framework made of the emulator's push,
its backoff follows the retry policy, and its settings are terraform's."""

from __future__ import annotations

import asyncio
import base64

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.pubsub_v1 import types

from devstack import stack
from devstack.endpoints import ROOT
from devstack.push_messages import PushSettings, push_body, retry_delay_s
from devstack.pusher import parse_args

SUBSCRIPTION = "projects/demo-quiz/subscriptions/quiz-commands-on-command"


def _message(data: bytes, ordering_key: str = "", **attributes: str) -> object:
    published = Timestamp(seconds=1_772_000_000, nanos=749_000_000)
    message = types.PubsubMessage(
        data=data, attributes=attributes, message_id="2070443601311540", ordering_key=ordering_key
    )
    raw = types.PubsubMessage.pb(message)
    raw.publish_time.CopyFrom(published)
    return raw


def test_push_body_is_the_documented_wrapped_message() -> None:
    body = push_body(_message(b"Hello there", uid="u1"), SUBSCRIPTION, 1)
    assert body == {
        "message": {
            "data": base64.b64encode(b"Hello there").decode(),
            "attributes": {"uid": "u1"},
            "messageId": "2070443601311540",
            "message_id": "2070443601311540",
            "publishTime": "2026-02-25T06:13:20.749Z",
            "publish_time": "2026-02-25T06:13:20.749Z",
        },
        "subscription": SUBSCRIPTION,
        "deliveryAttempt": 1,
    }


def test_push_body_names_the_ordering_key_only_when_the_message_has_one() -> None:
    assert push_body(_message(b"x", ordering_key="S1"), SUBSCRIPTION, 2)["message"]["orderingKey"] == "S1"
    assert "orderingKey" not in push_body(_message(b"x"), SUBSCRIPTION, 1)["message"]


def test_push_body_of_empty_data_keeps_the_field_as_the_emulator_did() -> None:
    # functions-framework only treats a body with message.data as a Pub/Sub push.
    body = push_body(_message(b"", uid="u1"), SUBSCRIPTION, 1)
    assert body["message"]["data"] == "" and body["message"]["attributes"] == {"uid": "u1"}


def test_push_body_becomes_the_cloudevent_on_command_reads() -> None:
    from flask import Flask
    from functions_framework.event_conversion import background_event_to_cloud_event

    body = push_body(_message(b'{"type":"PING"}', uid="u1"), SUBSCRIPTION, 3)
    with Flask(__name__).test_request_context("/", method="POST", json=body) as context:
        event = background_event_to_cloud_event(context.request)
    message = event.data["message"]
    assert base64.b64decode(message["data"]) == b'{"type":"PING"}'
    assert message["attributes"] == {"uid": "u1"}
    assert message["messageId"] == "2070443601311540"
    assert event["id"] == "2070443601311540"
    assert event["type"] == "google.cloud.pubsub.topic.v1.messagePublished"


def test_retry_delay_starts_at_the_minimum_backoff_and_doubles_up_to_the_maximum() -> None:
    settings = PushSettings(SUBSCRIPTION, "http://x/", minimum_backoff_s=1, maximum_backoff_s=30)
    assert [retry_delay_s(n, settings) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_pusher_refuses_a_backoff_range_that_is_empty() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--subscription", SUBSCRIPTION, "--endpoint", "http://x/", "--minimum-backoff-s", "9",
                    "--maximum-backoff-s", "3"])  # fmt: skip


def test_devstack_pushes_with_terraforms_ack_deadline_backoff_and_no_ordering() -> None:
    from tests.infra import tfmodel

    (cloud,) = [
        i
        for i in tfmodel.everywhere("google_pubsub_subscription")
        if i.get("name") == stack.COMMANDS_SUBSCRIPTION
    ]
    assert cloud.get("ack_deadline_seconds") == stack.COMMANDS_ACK_DEADLINE_S
    assert cloud.get("retry_policy.minimum_backoff") == f"{stack.COMMANDS_MINIMUM_BACKOFF_S}s"
    assert cloud.get("retry_policy.maximum_backoff") == f"{stack.COMMANDS_MAXIMUM_BACKOFF_S}s"
    assert not cloud.get("enable_message_ordering")


def test_devstack_refuses_a_push_limit_that_is_no_positive_number() -> None:
    bad = stack.Stack({}, ROOT, extra_env={stack.PUSH_MAX_IN_FLIGHT_VAR: "lots"})
    with pytest.raises(stack.StartError, match="PUSH_MAX_IN_FLIGHT"):
        bad.push_max_in_flight()
    assert stack.Stack({}, ROOT, extra_env={}).push_max_in_flight() >= 1


class _Subscriber:
    """Records acknowledge calls; the first waits until released, as an RPC in flight."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()

    async def acknowledge(self, *, ack_ids: list[str], **_: object) -> None:
        self.calls.append(list(ack_ids))
        await self.release.wait()


async def test_pusher_acknowledges_what_came_in_during_an_ack_call_in_one_next_call() -> None:
    from devstack.pusher import Pusher

    subscriber = _Subscriber()
    pusher = Pusher(PushSettings(SUBSCRIPTION, "http://x/"), subscriber, None)  # type: ignore[arg-type]
    acker = asyncio.create_task(pusher._ack_loop())
    pusher.acks_pending.append("a1")
    pusher.acks_ready.set()
    await asyncio.sleep(0.01)  # the first call is in flight
    pusher.acks_pending += ["a2", "a3", "a4"]
    pusher.acks_ready.set()
    subscriber.release.set()
    await asyncio.sleep(0.01)
    acker.cancel()
    assert subscriber.calls == [["a1"], ["a2", "a3", "a4"]]
