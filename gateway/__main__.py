"""`python -m gateway`: run one gateway instance (Cloud Run runs the same command)."""

from __future__ import annotations

import asyncio
import sys

from gateway.config import ConfigError, load_config
from gateway.server import Gateway
from vocabquiz.observability import logs, tracing


def main() -> int:
    logs.configure()
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2
    logs.configure(project_id=config.project_id)  # lines now name their trace in this project
    tracing.configure(config.trace_settings())
    try:
        import uvloop
    except ImportError:
        asyncio.run(Gateway(config).run())
    else:
        uvloop.run(Gateway(config).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
