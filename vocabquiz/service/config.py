"""Function configuration, read from the environment once, failing loudly on a gap."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vocabquiz.domain.quizfile import MAX_QUESTIONS
from vocabquiz.domain.quotas import DailyQuota
from vocabquiz.observability.tracing import (
    TraceConfigError,
    TraceSettings,
    parse_sample_ratio,
    select_exporter,
)
from vocabquiz.production import PRODUCTION, EmulatorInProduction, refuse_emulators


class ConfigError(RuntimeError):
    pass


# The most the host API reads of a request body (Flask refuses more with 413).
MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    project_id: str
    events_topic: str
    tasks_location: str
    flush_queue_prefix: str
    flush_queue_count: int
    timer_queue: str
    flush_url: str
    timer_url: str
    # Service account whose OIDC token Cloud Tasks attaches; empty locally.
    tasks_service_account: str
    flush_window_ms: int
    snapshot_window_ms: int
    reveal_pause_ms: int
    # Set only on a laptop: our Cloud Tasks stand-in (there is no official emulator).
    tasks_emulator_host: str
    # Browser origins (the web client's) allowed to call the host API.
    api_allowed_origins: frozenset[str]
    # "production" in the cloud; anything else is a laptop or a test stack.
    environment: str
    # Injected failures for the fault tests (vocabquiz/faults.py); empty in the cloud.
    faults: str
    # Where spans go (vocabquiz/observability/tracing.py): Cloud Trace in production, else an OTLP
    # endpoint if one is set, else nowhere (trace ids still reach the logs).
    trace_exporter: str
    otlp_endpoint: str
    trace_sample_ratio: float
    # What one account may cost (vocabquiz/domain/quotas.py): per user and UTC day, and
    # the largest quiz an upload may be.
    max_sessions_per_user_per_day: int
    max_quiz_uploads_per_user_per_day: int
    max_quiz_bytes: int
    max_quiz_questions: int
    # The host API refuses a request without a valid App Check token (X-Firebase-AppCheck);
    # off locally, where no browser attests itself.
    app_check_enforced: bool

    @property
    def session_quota(self) -> DailyQuota:
        return DailyQuota("sessions", self.max_sessions_per_user_per_day, "sessions created")

    @property
    def upload_quota(self) -> DailyQuota:
        return DailyQuota("uploads", self.max_quiz_uploads_per_user_per_day, "quizzes uploaded")

    def trace_settings(self) -> TraceSettings:
        return TraceSettings(
            service_name="quiz-functions",
            project_id=self.project_id,
            exporter=self.trace_exporter,
            otlp_endpoint=self.otlp_endpoint,
            sample_ratio=self.trace_sample_ratio,
        )


_REQUIRED = ("GOOGLE_CLOUD_PROJECT", "FLUSH_URL", "TIMER_URL")


def load_config(env: Mapping[str, str] = os.environ) -> Config:
    missing = [key for key in _REQUIRED if not env.get(key)]
    if missing:
        raise ConfigError(f"Missing environment variable(s): {', '.join(missing)}")
    environment = env.get("QUIZ_ENV", "local")
    try:
        refuse_emulators(env, environment)
    except EmulatorInProduction as exc:
        raise ConfigError(str(exc)) from None
    otlp_endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    try:
        trace_exporter = select_exporter(
            env.get("OTEL_TRACES_EXPORTER", ""), environment == PRODUCTION, otlp_endpoint
        )
        trace_sample_ratio = parse_sample_ratio(env.get("TRACE_SAMPLE_RATIO", "1.0"))
    except TraceConfigError as exc:
        raise ConfigError(str(exc)) from None
    return Config(
        project_id=env["GOOGLE_CLOUD_PROJECT"],
        events_topic=env.get("EVENTS_TOPIC", "quiz-events"),
        tasks_location=env.get("TASKS_LOCATION", "us-central1"),
        flush_queue_prefix=env.get("FLUSH_QUEUE_PREFIX", "leaderboard-flush"),
        flush_queue_count=int(env.get("FLUSH_QUEUE_COUNT", "4")),
        timer_queue=env.get("TIMER_QUEUE", "question-timers"),
        flush_url=env["FLUSH_URL"],
        timer_url=env["TIMER_URL"],
        tasks_service_account=env.get("TASKS_SERVICE_ACCOUNT", ""),
        flush_window_ms=int(env.get("FLUSH_WINDOW_MS", "100")),
        snapshot_window_ms=int(env.get("SNAPSHOT_WINDOW_MS", "1000")),
        reveal_pause_ms=int(env.get("REVEAL_PAUSE_MS", "5000")),
        tasks_emulator_host=env.get("CLOUD_TASKS_EMULATOR_HOST", ""),
        api_allowed_origins=frozenset(
            o.strip() for o in env.get("API_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
        environment=environment,
        faults=env.get("QUIZ_FAULTS", "").strip(),
        trace_exporter=trace_exporter,
        otlp_endpoint=otlp_endpoint,
        trace_sample_ratio=trace_sample_ratio,
        max_sessions_per_user_per_day=_count(
            "MAX_SESSIONS_PER_USER_PER_DAY", env.get("MAX_SESSIONS_PER_USER_PER_DAY", ""), 50
        ),
        max_quiz_uploads_per_user_per_day=_count(
            "MAX_QUIZ_UPLOADS_PER_USER_PER_DAY", env.get("MAX_QUIZ_UPLOADS_PER_USER_PER_DAY", ""), 20
        ),
        max_quiz_bytes=_count("MAX_QUIZ_BYTES", env.get("MAX_QUIZ_BYTES", ""), 256 * 1024, MAX_REQUEST_BYTES),
        max_quiz_questions=_count(
            "MAX_QUIZ_QUESTIONS", env.get("MAX_QUIZ_QUESTIONS", ""), 100, MAX_QUESTIONS
        ),
        app_check_enforced=_flag("APP_CHECK_ENFORCED", env.get("APP_CHECK_ENFORCED", "false")),
    )


def _flag(key: str, text: str) -> bool:
    """Variable `key`'s `text`: "true" or "false" (any case; unset is false)."""
    value = text.strip().lower() or "false"
    if value not in ("true", "false"):
        raise ConfigError(f"{key} must be 'true' or 'false'; got {text!r}")
    return value == "true"


def _count(key: str, text: str, default: int, most: int | None = None) -> int:
    """Variable `key`'s `text`, a positive whole number (`default` when unset), at most `most`."""
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1 or (most is not None and int(text) > most):
        bound = f" and at most {most}" if most is not None else ""
        raise ConfigError(f"{key} must be a whole number, at least 1{bound}; got {text!r}")
    return int(text)
