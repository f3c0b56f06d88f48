"""Counting what each invocation asks of Firestore: RPCs, and the document reads and writes
Firestore bills (a query that finds nothing is billed one read; a count, one per 1,000
entries: one here). The cost per answer the bench reports is counted at the channel, not
estimated. Counted where the client builds its own channel for the emulator; against
Cloud Firestore the counts are None (the client's production channel is built inside
the library)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud import firestore


@dataclass
class Usage:
    rpcs: int = 0
    reads: int = 0
    writes: int = 0


_usage: ContextVar[Usage | None] = ContextVar("firestore_usage", default=None)
_channel_counted = False  # a CountingClient's channel counts calls (the emulator's)


def channel_counted() -> bool:
    return _channel_counted


@contextmanager
def counting() -> Iterator[Usage]:
    """Count what is asked of Firestore in this block (this thread) into the Usage."""
    usage = Usage()
    token = _usage.set(usage)
    try:
        yield usage
    finally:
        _usage.reset(token)


def _method(details: Any) -> str:
    return str(details.method).rsplit("/", 1)[-1]


class _Counting:
    """A streaming call that counts the documents its responses carry, otherwise itself."""

    def __init__(self, call: Any, usage: Usage, fields: tuple[str, ...]) -> None:
        self._call = call
        self._usage = usage
        self._fields = fields
        self._documents = 0

    def __iter__(self) -> _Counting:
        return self

    def __next__(self) -> Any:
        try:
            response = next(self._call)
        except StopIteration:
            if self._documents == 0:
                self._usage.reads += 1  # an empty result is billed one read
                self._documents = -1
            raise
        if any(name in response for name in self._fields):
            self._usage.reads += 1
            self._documents += 1
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


# The fields of a streamed response that carry one billed document, by method.
_DOCUMENT_FIELDS = {
    "RunQuery": ("document",),
    "BatchGetDocuments": ("found", "missing"),
    "RunAggregationQuery": ("result",),
}


class _Counter(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):  # type: ignore[misc]
    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        usage = _usage.get()
        if usage is not None:
            usage.rpcs += 1
            method = _method(details)
            if method == "Commit":
                usage.writes += len(request.writes)
            elif method == "GetDocument":
                usage.reads += 1
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        usage = _usage.get()
        call = continuation(details, request)
        if usage is None:
            return call
        usage.rpcs += 1
        fields = _DOCUMENT_FIELDS.get(_method(details))
        return _Counting(call, usage, fields) if fields else call


class CountingClient(firestore.Client):
    """A Firestore client whose emulator channel counts every call it carries."""

    def _emulator_channel(self, transport: Any) -> Any:
        global _channel_counted
        _channel_counted = True
        channel = super()._emulator_channel(transport)  # type: ignore[no-untyped-call]
        return grpc.intercept_channel(channel, _Counter())
