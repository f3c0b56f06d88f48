"""What terraform/ creates in the cloud, created on the emulators: topics, the on_command
subscription, Cloud Tasks queues; plus the quizzes under quizzes/.

The on_command subscription and the dead letters' replay are pull subscriptions here:
local/devstack/pusher.py pulls each and pushes to on_command, many requests at once, with
terraform's ack deadline, retry backoff and dead-letter policy (the emulator's own push
delivers one message at a time, and has no dead-letter policy)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1, tasks_v2  # type: ignore[attr-defined,unused-ignore]

if TYPE_CHECKING:
    from devstack.stack import Stack


def provision(stack: Stack) -> None:
    from devstack import stack as s

    os.environ.update(stack.client_env())
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    for topic in (s.COMMANDS_TOPIC, s.EVENTS_TOPIC, s.DEAD_LETTER_TOPIC):
        with contextlib.suppress(gexc.AlreadyExists):
            publisher.create_topic(name=publisher.topic_path(s.PROJECT_ID, topic))
    # No message ordering, as in terraform: commands of one session may be pushed at once.
    # The pushers (local/devstack/pusher.py) apply the dead-letter policy and the backoffs.
    with contextlib.suppress(gexc.AlreadyExists):
        subscriber.create_subscription(
            name=subscriber.subscription_path(s.PROJECT_ID, s.COMMANDS_SUBSCRIPTION),
            topic=publisher.topic_path(s.PROJECT_ID, s.COMMANDS_TOPIC),
            ack_deadline_seconds=s.COMMANDS_ACK_DEADLINE_S,
        )
    with contextlib.suppress(gexc.AlreadyExists):
        subscriber.create_subscription(
            name=subscriber.subscription_path(s.PROJECT_ID, s.DEAD_LETTER_SUBSCRIPTION),
            topic=publisher.topic_path(s.PROJECT_ID, s.DEAD_LETTER_TOPIC),
            ack_deadline_seconds=s.COMMANDS_ACK_DEADLINE_S,
        )

    from tasks_emulator.client import make_client

    tasks = make_client(stack.endpoints["tasks"].address)
    parent = f"projects/{s.PROJECT_ID}/locations/{s.TASKS_LOCATION}"
    queues = [s.TIMER_QUEUE, *(f"{s.FLUSH_QUEUE_PREFIX}-{i}" for i in range(s.FLUSH_QUEUE_COUNT))]
    for queue in queues:
        with contextlib.suppress(gexc.AlreadyExists):
            tasks.create_queue(parent=parent, queue=tasks_v2.Queue(name=f"{parent}/queues/{queue}"))


def seed_quizzes(stack: Stack) -> list[str]:
    """Load every quizzes/*.json into Firestore through the functions' own store."""
    from google.cloud import firestore

    from devstack.endpoints import ROOT
    from devstack.stack import PROJECT_ID
    from vocabquiz.adapters.store import Store
    from vocabquiz.domain.quizfile import load_quiz_text

    store = Store(firestore.Client(project=PROJECT_ID))
    seeded = []
    for path in sorted((ROOT / "quizzes").glob("*.json")):
        quiz = load_quiz_text(path.read_text(), str(path.relative_to(ROOT)))
        store.save_quiz(quiz)
        seeded.append(quiz.id)
    return seeded
