"""``python -m tasks_emulator``: serve the Cloud Tasks v2 API on host:port.

Stops cleanly on SIGTERM/SIGINT: the gRPC server drains for a second, then
in-flight dispatches are cancelled (their tasks are simply lost, as the
emulator keeps no state across restarts).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

import grpc

from tasks_emulator.dispatcher import Dispatcher, make_http_client
from tasks_emulator.policy import US
from tasks_emulator.service import CloudTasksService
from tasks_emulator.store import DEFAULT_TOMBSTONE_US, Store
from vocabquiz.observability import logs

log = logging.getLogger("tasks_emulator")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tasks_emulator", description="Local Cloud Tasks v2 emulator (gRPC)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=9499, help="port to bind (default %(default)s)")
    parser.add_argument(
        "--tombstone-seconds",
        type=float,
        default=DEFAULT_TOMBSTONE_US / US,
        help="how long the name of a deleted/executed task stays reserved "
        "(default %(default)s, the up-to-24h window Cloud Tasks documents)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> int:
    store = Store(tombstone_us=int(args.tombstone_seconds * US))
    dispatcher = Dispatcher(store, make_http_client())
    service = CloudTasksService(store, dispatcher)
    # No SO_REUSEPORT: a second emulator on the same port must fail loudly
    # rather than silently share (and split) the traffic.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((service.generic_handler(),))
    address = f"{args.host}:{args.port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        port, error = 0, str(exc)
    else:
        error = "port not bound"
    if not port:
        log.error("cannot listen", extra={"json_fields": {"address": address, "error": error}})
        await dispatcher.aclose()
        return 1
    await server.start()
    log.info(
        "Cloud Tasks emulator listening",
        extra={
            "json_fields": {
                "host": args.host,
                "port": port,
                "tombstone_seconds": args.tombstone_seconds,
            }
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down")
    await server.stop(grace=1.0)
    await dispatcher.aclose()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure(args.log_level, stream=sys.stderr)  # the same JSON lines as every component's
    for noisy in ("aiohttp", "grpc", "asyncio"):  # their debug chatter would drown ours
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    return asyncio.run(serve(args))


if __name__ == "__main__":
    raise SystemExit(main())
