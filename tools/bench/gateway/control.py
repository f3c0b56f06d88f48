"""The orchestrator's end of a child process (a client or a baseline server): start it in
its own process group, send JSON-lines requests, stop it (the whole group)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bench.gateway.common import ROOT


class ChildError(RuntimeError):
    pass


class Controlled:
    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.lock = asyncio.Lock()

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(cls, name: str, module: str, args: list[str], log_dir: Path) -> Controlled:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        env = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=ROOT,
                env=env,
                start_new_session=True,
                limit=1 << 24,
            )
        child = cls(name, process, log_path)
        await child._read(timeout_s=60)  # {"ready": true}
        return child

    async def call(self, op: str, timeout_s: float = 120, **args: Any) -> dict[str, Any]:
        async with self.lock:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
            await self.process.stdin.drain()
            reply = await self._read(timeout_s)
        if "error" in reply:
            raise ChildError(f"{self.name}: {reply['error']}")
        return reply

    async def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout_s)
        except TimeoutError:
            raise ChildError(f"{self.name}: no answer in {timeout_s:.0f} s\n{self.log_tail()}") from None
        if not line:
            raise ChildError(f"{self.name} exited ({self.process.returncode}):\n{self.log_tail()}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self, timeout_s: float = 10) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            with contextlib.suppress(Exception):
                self.process.stdin.write(b'{"op":"exit"}\n')
                await self.process.stdin.drain()
                await asyncio.wait_for(self.process.wait(), timeout_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.process.wait(), 5)


class ClientPool:
    """Several client processes; socket g lives in process g % len(clients)."""

    def __init__(self, clients: list[Controlled]) -> None:
        self.clients = clients

    @classmethod
    async def start(
        cls, mode: str, host: str, port: int, count: int, sizes: list[int], log_dir: Path
    ) -> ClientPool:
        args = [mode, host, str(port)]
        rooms = ",".join(map(str, sizes))
        clients = await asyncio.gather(
            *(
                Controlled.start(
                    f"client-{mode}-{i}", "bench.gateway.clients", [*args, str(i), str(count), rooms], log_dir
                )
                for i in range(count)
            )
        )
        return cls(list(clients))

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.clients]

    async def all(self, op: str, timeout_s: float = 120, **args: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(c.call(op, timeout_s, **args) for c in self.clients)))

    async def each(
        self, op: str, per_client: list[dict[str, Any]], timeout_s: float = 120
    ) -> list[dict[str, Any]]:
        return list(
            await asyncio.gather(
                *(c.call(op, timeout_s, **a) for c, a in zip(self.clients, per_client, strict=True))
            )
        )

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.clients))
