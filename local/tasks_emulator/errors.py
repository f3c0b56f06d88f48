"""Errors raised by the pure layers; the gRPC layer maps them to status codes.

Keeping the gRPC code as a plain string name lets ``names``/``store`` stay free
of any grpc import (and testable without a server).
"""

from __future__ import annotations


class EmulatorError(Exception):
    """A request the real service would refuse, with the gRPC code it uses."""

    code = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(EmulatorError):
    code = "INVALID_ARGUMENT"


class NotFound(EmulatorError):
    code = "NOT_FOUND"


class AlreadyExists(EmulatorError):
    code = "ALREADY_EXISTS"


class Unimplemented(EmulatorError):
    code = "UNIMPLEMENTED"
