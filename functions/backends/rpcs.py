"""Counting the Firestore RPCs each invocation makes: the cost per answer the bench
reports is counted at the channel, not estimated. Counted where the client builds its
own channel for the emulator; against Cloud Firestore the count is None (the client's
production channel is built inside the library)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import grpc
from google.cloud import firestore

_counter: ContextVar[list[int] | None] = ContextVar("firestore_rpcs", default=None)
_channel_counted = False  # a CountingClient's channel counts calls (the emulator's)


def channel_counted() -> bool:
    return _channel_counted


@contextmanager
def counting() -> Iterator[Callable[[], int]]:
    """Count the RPCs made in this block (this thread); the callable reads the count."""
    box = [0]
    token = _counter.set(box)
    try:
        yield lambda: box[0]
    finally:
        _counter.reset(token)


class _Counter(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    @staticmethod
    def _count() -> None:
        box = _counter.get()
        if box is not None:
            box[0] += 1

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self._count()
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        self._count()
        return continuation(details, request)


class CountingClient(firestore.Client):
    """A Firestore client whose emulator channel counts every call it carries."""

    def _emulator_channel(self, transport: Any) -> Any:
        global _channel_counted
        _channel_counted = True
        channel = super()._emulator_channel(transport)  # type: ignore[no-untyped-call]
        return grpc.intercept_channel(channel, _Counter())
