"""The whole system on one machine: emulators, the Cloud Tasks stand-in, the functions
(functions-framework, one process each), the gateway, and the pusher that delivers
commands to on_command as Pub/Sub push does (local/devstack/pusher.py), wired as in the cloud.

Ports come from emulator.json (its `emulators` block is also the Firebase CLI's config).
Tests build a Stack on free ports so they never collide with a running `make run`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from devstack.endpoints import FIREBASE_ONLY, FUNCTIONS, ROOT, Endpoint, free_endpoints
from devstack.ports import check_ports_free
from devstack.prerequisites import check_prerequisites
from devstack.processes import (
    Child,
    StartError,
    free_port,
    spawn,
    wait_for_line,
    wait_for_port,
)

FUNCTIONS_MAIN = ROOT / "functions" / "main.py"


def functions_main() -> ModuleType:
    """functions/main.py as module `main`, loaded by path the way functions-framework loads
    it (the file is the deployed zip's root, not a package). Loaded anew on each call: main
    reads its configuration from the environment when it loads, so each caller gets one
    configured by the environment of the moment."""
    spec = importlib.util.spec_from_file_location("main", FUNCTIONS_MAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    return module


PROJECT_ID = "demo-quiz"  # a demo- project never reaches a real one
COMMANDS_TOPIC = "quiz-commands"
EVENTS_TOPIC = "quiz-events"
COMMANDS_SUBSCRIPTION = f"{COMMANDS_TOPIC}-on-command"
DEAD_LETTER_TOPIC = f"{COMMANDS_TOPIC}-dead-letter"
DEAD_LETTER_SUBSCRIPTION = f"{DEAD_LETTER_TOPIC}-replay"
# terraform/modules/pubsub's subscriptions (its variables' defaults): on_command's, whose
# 100 deliveries ride out about 48 minutes of failures, and the dead letters' replay,
# which pushes them to on_command again every 10 minutes at most until they succeed.
COMMANDS_ACK_DEADLINE_S = 60
COMMANDS_MINIMUM_BACKOFF_S = 1
COMMANDS_MAXIMUM_BACKOFF_S = 30
COMMANDS_MAX_DELIVERY_ATTEMPTS = 100
DEAD_LETTER_MINIMUM_BACKOFF_S = 10
DEAD_LETTER_MAXIMUM_BACKOFF_S = 600
# How many pushes to on_command may be outstanding at once (env var, read at start).
PUSH_MAX_IN_FLIGHT_VAR = "PUSH_MAX_IN_FLIGHT"
PUSH_MAX_IN_FLIGHT_DEFAULT = 32
# The fault tests shorten the delivery budget and the replay's backoff with these.
PUSH_ACK_DEADLINE_VAR = "PUSH_ACK_DEADLINE_S"
PUSH_MAX_DELIVERY_ATTEMPTS_VAR = "PUSH_MAX_DELIVERY_ATTEMPTS"
DEAD_LETTER_MAXIMUM_BACKOFF_VAR = "DEAD_LETTER_MAXIMUM_BACKOFF_S"
PUSHER_STARTED = "push delivery started"  # the pusher's ready line (it opens no port)
TIMER_QUEUE = "question-timers"
FLUSH_QUEUE_PREFIX = "leaderboard-flush"
FLUSH_QUEUE_COUNT = 4
TASKS_LOCATION = "us-central1"


@dataclass
class Stack:
    endpoints: dict[str, Endpoint]
    log_dir: Path
    children: list[Child] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    # How each child was started, so one can be restarted (fault tests).
    launches: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    # Where the gateway serves Prometheus /metrics: 127.0.0.1 only, never its public port.
    gateway_metrics: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", free_port()))
    # What functions-framework loads the functions from (the bench loads them through a probe).
    function_source: ClassVar[Path] = FUNCTIONS_MAIN
    # Where the ports come from, for the message when one is taken.
    ports_source: str = "free ports"

    def client_env(self) -> dict[str, str]:
        """What a client library needs to find the emulators (the standard variables)."""
        e = self.endpoints
        return {
            "GOOGLE_CLOUD_PROJECT": PROJECT_ID,
            "FIRESTORE_EMULATOR_HOST": e["firestore"].address,
            "PUBSUB_EMULATOR_HOST": e["pubsub"].address,
            "FIREBASE_AUTH_EMULATOR_HOST": e["auth"].address,
            "CLOUD_TASKS_EMULATOR_HOST": e["tasks"].address,
        }

    def service_env(self) -> dict[str, str]:
        e = self.endpoints
        env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
        env.update(self.client_env())
        # The web client is served by the gateway: its origin may open sockets and call the API.
        web_origins = ",".join(f"http://{host}:{e['gateway'].port}" for host in ("127.0.0.1", "localhost"))
        env.update(
            PYTHONUNBUFFERED="1",
            EVENTS_TOPIC=EVENTS_TOPIC,
            COMMANDS_TOPIC=COMMANDS_TOPIC,
            TIMER_QUEUE=TIMER_QUEUE,
            FLUSH_QUEUE_PREFIX=FLUSH_QUEUE_PREFIX,
            FLUSH_QUEUE_COUNT=str(FLUSH_QUEUE_COUNT),
            TASKS_LOCATION=TASKS_LOCATION,
            FLUSH_URL=e["flush_leaderboard"].url + "/",
            TIMER_URL=e["advance_question"].url + "/",
            ALLOWED_ORIGINS=web_origins,
            NO_UPDATE_NOTIFIER="1",
            PUBLIC_API_URL=e["sessions_api"].url,
            API_ALLOWED_ORIGINS=web_origins,
        )
        env.update(self.extra_env)
        return env

    # -- start ------------------------------------------------------------------------

    def start(self) -> None:
        # Before anything is written or started: with a port taken (another `make run`),
        # the wait for each port would take the other stack's answer for this one's.
        check_ports_free({**self.endpoints, "gateway metrics": self.gateway_metrics}, self.ports_source)
        check_prerequisites(ROOT)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_emulators()
            from devstack import provision

            provision.provision(self)
            self._start_services()
            self._start_pusher()
            provision.seed_quizzes(self)
        except BaseException:
            self.stop()
            raise

    def _start_emulators(self) -> None:
        e, env = self.endpoints, self.service_env()
        firebase_config = self.log_dir / "firebase.json"
        firebase_config.write_text(
            json.dumps(
                {
                    "emulators": {
                        "singleProjectMode": True,
                        "ui": {"enabled": False},
                        **{
                            name: {"host": e[name].host, "port": e[name].port}
                            for name in ("auth", *FIREBASE_ONLY)
                        },
                    }
                },
                indent=2,
            )
        )
        launches = {
            "firestore": [
                "gcloud",
                "beta",
                "emulators",
                "firestore",
                "start",
                f"--host-port={e['firestore'].address}",
                f"--rules={ROOT / 'firestore.rules'}",
            ],
            "pubsub": [
                "gcloud",
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port={e['pubsub'].address}",
                f"--project={PROJECT_ID}",
            ],
            "auth": [
                str(ROOT / "node_modules" / ".bin" / "firebase"),
                "--config",
                str(firebase_config),
                "emulators:start",
                "--only",
                "auth",
                "--project",
                PROJECT_ID,
            ],
            "tasks": [
                sys.executable,
                "-m",
                "tasks_emulator",
                "--host",
                e["tasks"].host,
                "--port",
                str(e["tasks"].port),
            ],
        }
        started = [self._spawn(name, argv, env) for name, argv in launches.items()]
        for child in started:
            wait_for_port(child, e[child.name].host, e[child.name].port, timeout_s=60)

    def _start_services(self) -> None:
        e, env = self.endpoints, self.service_env()
        started = []
        # In the cloud a function scales out (terraform: 4 requests per instance, up to 100
        # instances); here one process stands for all of them, so it serves as many
        # requests at once as the pusher keeps in flight (functions-framework's default,
        # 4 threads per core, queued a 1,000-player question behind 8 threads).
        function_env = env | {"THREADS": str(self.push_max_in_flight())}
        for name in FUNCTIONS:
            argv = [
                sys.executable,
                "-m",
                "functions_framework",
                f"--target={name}",
                f"--source={self.function_source}",
                f"--host={e[name].host}",
                f"--port={e[name].port}",
            ]
            started.append(self._spawn(name, argv, function_env))
        gateway_env = env | {
            "HOST": e["gateway"].host,
            "PORT": str(e["gateway"].port),
            "METRICS_PORT": str(self.gateway_metrics.port),
        }
        started.append(self._spawn("gateway", [sys.executable, "-m", "gateway"], gateway_env))
        for child in started:
            wait_for_port(child, e[child.name].host, e[child.name].port, timeout_s=60)

    def push_max_in_flight(self) -> int:
        return self._push_setting(PUSH_MAX_IN_FLIGHT_VAR, PUSH_MAX_IN_FLIGHT_DEFAULT)

    def _push_setting(self, var: str, default: int) -> int:
        raw = self.extra_env.get(var, os.environ.get(var, ""))
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise StartError(f"{var} must be a whole number of at least 1, not {raw!r}")
        return int(raw)

    def _start_pusher(self) -> None:
        """Push delivery to on_command, many requests at once as in the cloud (the
        emulator's own push sends one at a time), with terraform's dead-letter policy; and
        the dead letters' replay, pushed to on_command again until they succeed."""
        deadline_s = self._push_setting(PUSH_ACK_DEADLINE_VAR, COMMANDS_ACK_DEADLINE_S)
        attempts = self._push_setting(PUSH_MAX_DELIVERY_ATTEMPTS_VAR, COMMANDS_MAX_DELIVERY_ATTEMPTS)
        subscriptions = f"--subscription=projects/{PROJECT_ID}/subscriptions"
        common = [
            sys.executable,
            "-m",
            "devstack.pusher",
            f"--endpoint={self.endpoints['on_command'].url}/",
            f"--max-in-flight={self.push_max_in_flight()}",
            f"--ack-deadline-s={deadline_s}",
        ]
        commands = [
            f"{subscriptions}/{COMMANDS_SUBSCRIPTION}",
            f"--minimum-backoff-s={COMMANDS_MINIMUM_BACKOFF_S}",
            f"--maximum-backoff-s={COMMANDS_MAXIMUM_BACKOFF_S}",
            f"--max-delivery-attempts={attempts}",
            f"--dead-letter-topic=projects/{PROJECT_ID}/topics/{DEAD_LETTER_TOPIC}",
        ]
        maximum_s = self._push_setting(DEAD_LETTER_MAXIMUM_BACKOFF_VAR, DEAD_LETTER_MAXIMUM_BACKOFF_S)
        replay = [
            f"{subscriptions}/{DEAD_LETTER_SUBSCRIPTION}",
            f"--minimum-backoff-s={min(DEAD_LETTER_MINIMUM_BACKOFF_S, maximum_s)}",
            f"--maximum-backoff-s={maximum_s}",
        ]
        for name, argv in (("pusher", common + commands), ("dead-letter-pusher", common + replay)):
            child = self._spawn(name, argv, self.service_env())
            wait_for_line(child, PUSHER_STARTED, timeout_s=60)

    def spawn_gateway(self, name: str, **env: str) -> tuple[Child, Endpoint]:
        """Another gateway instance on a free port (scale-out and shutdown tests); its
        origin is allowed too. The caller stops it (it is also stopped with the stack)."""
        endpoint = Endpoint("127.0.0.1", free_port())
        base = self.service_env()
        origins = f"{base['ALLOWED_ORIGINS']},http://127.0.0.1:{endpoint.port}"
        child_env = (
            base | {"HOST": endpoint.host, "PORT": str(endpoint.port), "ALLOWED_ORIGINS": origins} | env
        )
        child = self._spawn(name, [sys.executable, "-m", "gateway"], child_env)
        wait_for_port(child, endpoint.host, endpoint.port, timeout_s=60)
        return child, endpoint

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = spawn(name, argv, env, self.log_dir, cwd=self.log_dir)
        self.children.append(child)
        self.launches[name] = (argv, env)
        return child

    def restart(self, name: str, *, crash: bool = True, **env: str) -> Child:
        """Stop one child (SIGKILL of its process group when `crash`, else SIGTERM) and
        start it again as before, with `env` on top of its environment. The old log is
        kept as <name>.<n>.log. Fault tests use it; the restarted child is stopped with the stack."""
        old = self.child(name)
        if crash and old.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(old.process.pid, signal.SIGKILL)
            old.process.wait()
        old.stop()
        self.children.remove(old)
        kept = next(n for n in itertools.count(1) if not (self.log_dir / f"{name}.{n}.log").exists())
        with contextlib.suppress(OSError):
            old.log_path.rename(self.log_dir / f"{name}.{kept}.log")
        argv, base = self.launches[name]
        child = self._spawn(name, argv, base | env)
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            wait_for_port(child, endpoint.host, endpoint.port, timeout_s=60)
        elif name in ("pusher", "dead-letter-pusher"):
            wait_for_line(child, PUSHER_STARTED, timeout_s=60)
        return child

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    # -- stop -------------------------------------------------------------------------

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()


@contextmanager
def running_stack(
    endpoints: dict[str, Endpoint] | None = None,
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    stack_type: type[Stack] = Stack,
) -> Iterator[Stack]:
    stack = stack_type(
        endpoints or free_endpoints(),
        log_dir or Path(tempfile.mkdtemp(prefix="quiz-stack-")),
        extra_env=extra_env or {},
    )
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    # Provisioning points this process's clients at the stack (*_EMULATOR_HOST); a stack
    # started inside another (a test's own) hands the outer one its environment back.
    saved_env = dict(os.environ)
    try:
        stack.start()
    except StartError:
        if endpoints is not None:
            raise
        # Ports drawn free can still be taken before a service binds them: draw again, once.
        stack.endpoints = free_endpoints()
        stack.start()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved_env)
