"""Gateway configuration from the environment, read once; every limit has a default."""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from vocabquiz.faults import FaultConfigError, Faults
from vocabquiz.faults import load as load_faults
from vocabquiz.observability.tracing import (
    TraceConfigError,
    TraceSettings,
    parse_sample_ratio,
    select_exporter,
)
from vocabquiz.production import EmulatorInProduction, refuse_emulators
from vocabquiz.protocol import MAX_FRAME_BYTES

# Where the Managed Service for Prometheus sidecar scrapes /metrics in Cloud Run
# (terraform/modules/gateway configures both); bound to 127.0.0.1 only.
DEFAULT_METRICS_PORT = 9464


class ConfigError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    host: str
    port: int
    project_id: str
    commands_topic: str
    events_topic: str
    gateway_id: str
    # Exact Origin values a browser may connect from; a missing Origin (non-browser
    # clients, which cannot be driven by a hostile page) is allowed.
    allowed_origins: frozenset[str]
    max_frame_bytes: int
    rate_per_s: float
    rate_burst: int
    max_connections_per_user: int
    send_buffer_limit_bytes: int
    ping_interval_s: float
    # Leaderboards reach a session's sockets at most once per gap (the flush window).
    leaderboard_gap_s: float
    # A busy session's commands go to Pub/Sub at most once per gap, packed (0: whatever
    # arrived while the previous publish was in flight). A quiet session's go at once.
    # 50 ms: at 1,000 players the functions' work per answer fell by a third and the
    # answer -> score p50 from 947 to 544 ms (docs/bench.md).
    command_batch_gap_s: float
    # /health/ready answers from a check of the commands topic made this often in the
    # background: a probe (or anyone on the internet) never costs a call to Pub/Sub.
    ready_check_interval_s: float
    # Prometheus /metrics on 127.0.0.1 at this port, never on the public one (0: any free
    # port; None: not served).
    metrics_port: int | None
    # SIGTERM: how long the commands in flight may take to be stored and acknowledged
    # before the sockets close (Cloud Run kills an instance 10 s after its SIGTERM).
    drain_timeout_s: float
    production: bool
    # Injected faults, for fault runs only (vocabquiz/faults.py); None when QUIZ_FAULTS is unset.
    faults: Faults | None
    # What the web client needs to know at runtime (served as /config.json).
    public_api_url: str
    firebase_api_key: str
    auth_emulator_url: str
    # Firebase App Check (reCAPTCHA Enterprise): the web app's id and the site key the page
    # gets tokens with ("": App Check off in the browser); enforced, a handshake without
    # a valid App Check token is refused.
    firebase_app_id: str
    app_check_site_key: str
    app_check_enforced: bool
    # Where spans go (vocabquiz/observability/tracing.py): Cloud Trace in production, else an OTLP
    # endpoint if one is set, else nowhere (trace ids still reach the logs).
    trace_exporter: str
    otlp_endpoint: str
    trace_sample_ratio: float

    def trace_settings(self) -> TraceSettings:
        return TraceSettings(
            service_name="quiz-gateway",
            project_id=self.project_id,
            exporter=self.trace_exporter,
            otlp_endpoint=self.otlp_endpoint,
            sample_ratio=self.trace_sample_ratio,
        )


def load_config(env: Mapping[str, str] = os.environ) -> GatewayConfig:
    missing = [key for key in ("GOOGLE_CLOUD_PROJECT",) if not env.get(key)]
    if missing:
        raise ConfigError(f"Missing environment variable(s): {', '.join(missing)}")
    environment = env.get("QUIZ_ENV", "local")
    production = environment == "production"
    try:
        refuse_emulators(env, environment)  # the functions' config refuses the same
    except EmulatorInProduction as exc:
        raise ConfigError(str(exc)) from None
    origins = frozenset(o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
    otlp_endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    try:
        trace_exporter = select_exporter(env.get("OTEL_TRACES_EXPORTER", ""), production, otlp_endpoint)
        trace_sample_ratio = parse_sample_ratio(env.get("TRACE_SAMPLE_RATIO", "1.0"))
    except TraceConfigError as exc:
        raise ConfigError(str(exc)) from None
    try:
        injected = load_faults(env.get("QUIZ_FAULTS", ""), environment)
    except FaultConfigError as exc:
        raise ConfigError(str(exc)) from None
    app_check_enforced = _flag("APP_CHECK_ENFORCED", env.get("APP_CHECK_ENFORCED") or "false")
    firebase_app_id = env.get("FIREBASE_APP_ID", "")
    app_check_site_key = env.get("APP_CHECK_SITE_KEY", "")
    if app_check_enforced and not (firebase_app_id and app_check_site_key):
        # The page could get no App Check token, and every handshake would be refused.
        raise ConfigError("APP_CHECK_ENFORCED=true needs FIREBASE_APP_ID and APP_CHECK_SITE_KEY")
    return GatewayConfig(
        host=env.get("HOST", "0.0.0.0"),
        port=int(env.get("PORT", "8080")),
        project_id=env["GOOGLE_CLOUD_PROJECT"],
        commands_topic=env.get("COMMANDS_TOPIC", "quiz-commands"),
        events_topic=env.get("EVENTS_TOPIC", "quiz-events"),
        gateway_id=env.get("GATEWAY_ID") or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}",
        allowed_origins=origins,
        max_frame_bytes=int(env.get("MAX_FRAME_BYTES", str(MAX_FRAME_BYTES))),
        rate_per_s=float(env.get("RATE_PER_S", "20")),
        rate_burst=int(env.get("RATE_BURST", "40")),
        max_connections_per_user=int(env.get("MAX_CONNECTIONS_PER_USER", "5")),
        send_buffer_limit_bytes=int(env.get("SEND_BUFFER_LIMIT_BYTES", str(1024 * 1024))),
        ping_interval_s=float(env.get("PING_INTERVAL_S", "20")),
        leaderboard_gap_s=_seconds_of_ms(env, "LEADERBOARD_GAP_MS", 100),
        command_batch_gap_s=_seconds_of_ms(env, "COMMAND_BATCH_GAP_MS", 50),
        drain_timeout_s=_seconds_of_ms(env, "DRAIN_TIMEOUT_MS", 3000),
        ready_check_interval_s=_seconds_of_ms(env, "READY_CHECK_INTERVAL_MS", 5000, least_ms=1),
        metrics_port=_metrics_port(env.get("METRICS_PORT", ""), production),
        production=production,
        faults=injected,
        public_api_url=env.get("PUBLIC_API_URL", ""),
        firebase_api_key=env.get("FIREBASE_WEB_API_KEY", "local"),
        auth_emulator_url=f"http://{env['FIREBASE_AUTH_EMULATOR_HOST']}"
        if env.get("FIREBASE_AUTH_EMULATOR_HOST")
        else "",
        firebase_app_id=firebase_app_id,
        app_check_site_key=app_check_site_key,
        app_check_enforced=app_check_enforced,
        trace_exporter=trace_exporter,
        otlp_endpoint=otlp_endpoint,
        trace_sample_ratio=trace_sample_ratio,
    )


def _flag(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def _seconds_of_ms(env: Mapping[str, str], name: str, default_ms: float, least_ms: float = 0) -> float:
    """A duration set in milliseconds (unset or empty: `default_ms`), in seconds; one that
    is not a finite number of at least `least_ms` is refused, naming the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default_ms / 1000
    try:
        value_ms = float(raw)
    except ValueError:
        value_ms = math.nan
    if not math.isfinite(value_ms) or value_ms < least_ms:
        raise ConfigError(f"{name} must be a number of milliseconds, at least {least_ms:g}, not {raw!r}")
    return value_ms / 1000


def _metrics_port(raw: str, production: bool) -> int | None:
    """Unset: DEFAULT_METRICS_PORT in production, where the sidecar scrapes it; not served
    locally, where several gateways share a host (the local stack sets a free port)."""
    if not raw:
        return DEFAULT_METRICS_PORT if production else None
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(f"METRICS_PORT must be a port number, not {raw!r}")
    return int(raw)
