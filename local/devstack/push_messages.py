"""What the push stand-in sends and when, as Cloud Pub/Sub documents it: its settings (a
subscription's ack deadline, retry policy and dead-letter policy), the push request body,
the retry backoff, and the attributes a dead-lettered message gains."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PushSettings:
    subscription: str  # projects/<project>/subscriptions/<name>
    endpoint: str
    max_in_flight: int = 32
    ack_deadline_s: int = 60  # also the push endpoint's deadline
    minimum_backoff_s: int = 1
    maximum_backoff_s: int = 30
    max_delivery_attempts: int = 0  # 0: no dead-letter policy
    dead_letter_topic: str = ""  # projects/<project>/topics/<name>


def push_body(message: Any, subscription: str, delivery_attempt: int) -> dict[str, Any]:
    """The wrapped push request body for a PubsubMessage (protobuf): camelCase and
    snake_case ids and times both, as documented; `orderingKey` only when set;
    `deliveryAttempt` because the cloud subscription has a dead-letter policy."""
    publish_time = message.publish_time.ToJsonString()
    wrapped: dict[str, Any] = {
        "data": base64.b64encode(message.data).decode("ascii"),
        "attributes": dict(message.attributes),
        "messageId": message.message_id,
        "message_id": message.message_id,
        "publishTime": publish_time,
        "publish_time": publish_time,
    }
    if message.ordering_key:
        wrapped["orderingKey"] = message.ordering_key
    return {"message": wrapped, "subscription": subscription, "deliveryAttempt": delivery_attempt}


def retry_delay_s(failed_attempts: int, settings: PushSettings) -> int:
    """Exponential backoff between the retry policy's bounds: the minimum after the first
    failure, doubling after each further one."""
    delay = settings.minimum_backoff_s * 2 ** max(0, failed_attempts - 1)
    return int(min(settings.maximum_backoff_s, delay))


def dead_letter_attributes(message: Any, subscription: str, delivery_attempts: int) -> dict[str, str]:
    """The message's attributes and those Cloud Pub/Sub adds when it dead-letters one."""
    project = subscription.split("/")[1]
    return dict(message.attributes) | {
        "CloudPubSubDeadLetterSourceDeliveryCount": str(delivery_attempts),
        "CloudPubSubDeadLetterSourceSubscription": subscription.rsplit("/", 1)[-1],
        "CloudPubSubDeadLetterSourceSubscriptionProject": project,
        "CloudPubSubDeadLetterSourceTopicPublishTime": message.publish_time.ToJsonString(),
    }
