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

from vocabquiz.faults import Dice, FaultConfigError
from vocabquiz.faults import log as faults_log


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


class _LostReply(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """A call that reached the server, whose reply never came back: UNAVAILABLE. (An
    intercepted blocking call asks its outcome for `result()` only.)"""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "injected fault: the commit was applied, its reply lost (QUIZ_FAULTS)"

    def result(self, timeout: float | None = None) -> Any:
        raise self


class _LosingCommitReplies(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Fault runs only (QUIZ_FAULTS=lost_commit_reply=P): a commit that succeeded answers
    UNAVAILABLE, so the client library retries it, as after a reply lost in the cloud."""

    def __init__(self, dice: Dice) -> None:
        self.dice = dice

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = continuation(details, request)
        if _method(details) == "Commit" and call.exception() is None and self.dice.roll("lost_commit_reply"):
            faults_log.warning("injected fault: a commit's reply lost", extra={"json_fields": {}})
            return _LostReply()
        return call


class CountingClient(firestore.Client):
    """A Firestore client whose emulator channel counts every call it carries (and, in a
    fault run, loses some commits' replies)."""

    def __init__(self, *args: Any, lost_replies: Dice | None = None, **kwargs: Any) -> None:
        self._lost_replies = lost_replies
        super().__init__(*args, **kwargs)
        if lost_replies is not None and lost_replies.faults.lost_commit_reply > 0 and not self._emulator_host:
            # The replies are lost on the emulator's channel: never silently not at all.
            raise FaultConfigError("QUIZ_FAULTS: lost_commit_reply needs the Firestore emulator")

    def _emulator_channel(self, transport: Any) -> Any:
        global _channel_counted
        _channel_counted = True
        channel = super()._emulator_channel(transport)  # type: ignore[no-untyped-call]
        interceptors: list[Any] = [_Counter()]
        if self._lost_replies is not None and self._lost_replies.faults.lost_commit_reply > 0:
            interceptors.append(_LosingCommitReplies(self._lost_replies))
        return grpc.intercept_channel(channel, *interceptors)
