"""The trace context's helpers (vocabquiz/observability/tracing.py) and the log line's trace fields
(vocabquiz/observability/logs.py), without any I/O."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import get_current_span

from vocabquiz.observability import logs, tracing
from vocabquiz.protocol.frames import ProtocolError, validate_client_frame

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def _ids() -> tuple[str, str]:
    context = get_current_span().get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def test_a_span_started_from_injected_attributes_continues_the_same_trace() -> None:
    with tracing.tracer().start_as_current_span("gateway publish"):
        attributes = tracing.inject({"uid": "u1"})
        sent_trace, sent_span = _ids()
    assert attributes["uid"] == "u1"
    assert attributes[tracing.TRACEPARENT].startswith(f"00-{sent_trace}-{sent_span}-")
    with tracing.tracer().start_as_current_span("on_command", context=tracing.extract(attributes)) as span:
        assert _ids()[0] == sent_trace
        assert span.parent is not None and f"{span.parent.span_id:016x}" == sent_span  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "carrier",
    [{}, {"traceparent": "garbage"}, {"traceparent": f"00-{'0' * 32}-{PARENT}-01"}, {"uid": "u1"}],
    ids=["none", "garbage", "zero-trace-id", "unrelated"],
)
def test_a_message_without_a_valid_context_starts_a_new_trace(carrier: dict[str, str]) -> None:
    with tracing.tracer().start_as_current_span("on_command", context=tracing.extract(carrier)) as span:
        assert span.get_span_context().is_valid
        assert span.parent is None  # type: ignore[attr-defined]


def test_a_request_with_only_googles_trace_header_continues_that_trace() -> None:
    headers = {"X-Cloud-Trace-Context": f"{TRACE}/1;o=1"}
    with tracing.tracer().start_as_current_span("flush", context=tracing.extract(headers)):
        assert _ids()[0] == TRACE


def test_traceparent_wins_over_googles_trace_header() -> None:
    other = secrets.token_hex(16)
    headers = {"X-Cloud-Trace-Context": f"{other}/1;o=1", "traceparent": f"00-{TRACE}-{PARENT}-01"}
    with tracing.tracer().start_as_current_span("flush", context=tracing.extract(headers)):
        assert _ids()[0] == TRACE


def test_a_client_traceparent_is_read_only_when_well_formed() -> None:
    assert tracing.from_client_traceparent(None) == tracing.from_client_traceparent("nonsense") == {}
    with tracing.tracer().start_as_current_span(
        "publish", context=tracing.from_client_traceparent(f"00-{TRACE}-{PARENT}-01")
    ):
        assert _ids()[0] == TRACE
    assert tracing.current_traceparent() is None and tracing.current_trace_id() is None


def test_task_headers_carry_the_creating_span_and_keep_their_own() -> None:
    with tracing.tracer().start_as_current_span("create task lb"):
        headers = tracing.inject({"Content-Type": "application/json"})
        assert tracing.current_traceparent() == headers["traceparent"]
        assert tracing.current_trace_id() == _ids()[0]
    assert headers["Content-Type"] == "application/json"


def test_a_client_cannot_force_sampling_but_keeps_its_trace_id() -> None:
    settings = tracing.TraceSettings("quiz-gateway", "p", "none", sample_ratio=0.0)
    parent = tracing.from_client_traceparent(f"00-{TRACE}-{PARENT}-01")  # "sampled", says the client
    result = tracing.sampler_for(settings).should_sample(parent, int(TRACE, 16), "publish")
    assert result.decision is Decision.DROP
    with tracing.tracer().start_as_current_span("publish", context=parent):
        assert _ids()[0] == TRACE


def test_our_own_services_follow_the_sampled_flag_they_receive() -> None:
    settings = tracing.TraceSettings("quiz-functions", "p", "none", sample_ratio=0.0)
    parent = tracing.extract({"traceparent": f"00-{TRACE}-{PARENT}-01"})
    result = tracing.sampler_for(settings).should_sample(parent, int(TRACE, 16), "on_command")
    assert result.decision is Decision.RECORD_AND_SAMPLE


@pytest.mark.parametrize(
    ("requested", "production", "endpoint", "chosen"),
    [
        ("", True, "", "cloud_trace"),
        ("", False, "http://localhost:4318", "otlp"),
        ("", False, "", "none"),
        ("console", False, "", "console"),
        ("NONE", True, "", "none"),
    ],
)
def test_the_exporter_follows_the_environment(
    requested: str, production: bool, endpoint: str, chosen: str
) -> None:
    assert tracing.select_exporter(requested, production, endpoint) == chosen


def test_an_unknown_exporter_or_ratio_is_refused_by_name() -> None:
    with pytest.raises(tracing.TraceConfigError, match="OTEL_TRACES_EXPORTER"):
        tracing.select_exporter("jaeger", False, "")
    for text in ("1.5", "nan", "lots"):
        with pytest.raises(tracing.TraceConfigError, match="TRACE_SAMPLE_RATIO"):
            tracing.parse_sample_ratio(text)


def test_functions_config_exports_nowhere_locally_and_to_cloud_trace_in_production() -> None:
    from vocabquiz.service.config import ConfigError, load_config

    base = {"GOOGLE_CLOUD_PROJECT": "p", "FLUSH_URL": "http://f", "TIMER_URL": "http://t"}
    assert load_config(base).trace_settings().exporter == "none"
    production = load_config(base | {"QUIZ_ENV": "production", "TRACE_SAMPLE_RATIO": "0.1"})
    assert (production.trace_exporter, production.trace_sample_ratio) == ("cloud_trace", 0.1)
    with pytest.raises(ConfigError, match="TRACE_SAMPLE_RATIO"):
        load_config(base | {"TRACE_SAMPLE_RATIO": "2"})


def test_gateway_config_exports_like_the_functions() -> None:
    from gateway.config import ConfigError, load_config

    assert load_config({"GOOGLE_CLOUD_PROJECT": "p"}).trace_settings().exporter == "none"
    local_otlp = load_config({"GOOGLE_CLOUD_PROJECT": "p", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert (local_otlp.trace_exporter, local_otlp.otlp_endpoint) == ("otlp", "http://c:4318")
    production = load_config({"GOOGLE_CLOUD_PROJECT": "p", "QUIZ_ENV": "production"})
    assert production.trace_settings().exporter == "cloud_trace"
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        load_config({"GOOGLE_CLOUD_PROJECT": "p", "OTEL_TRACES_EXPORTER": "zipkin"})


# -- the log line ---------------------------------------------------------------------


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter("demo-quiz"))
    logger = logging.getLogger("test.observability")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)


def _logged(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_line_logged_in_a_span_names_its_trace_the_way_cloud_logging_reads_it(lines: io.StringIO) -> None:
    log = logging.getLogger("test.observability")
    with tracing.tracer().start_as_current_span(
        "on_command", context=tracing.extract({"traceparent": f"00-{TRACE}-{PARENT}-01"})
    ):
        _, span_id = _ids()
        log.info("answer scored", extra={"json_fields": {"correct": True}})
    log.info("outside")
    inside, outside = _logged(lines)
    assert inside["logging.googleapis.com/trace"] == f"projects/demo-quiz/traces/{TRACE}"
    assert inside["logging.googleapis.com/spanId"] == span_id
    assert inside["logging.googleapis.com/trace_sampled"] is True
    assert (inside["severity"], inside["message"], inside["correct"]) == ("INFO", "answer scored", True)
    assert "logging.googleapis.com/trace" not in outside


def test_bound_ids_are_on_every_line_of_the_block_and_only_there(lines: io.StringIO) -> None:
    log = logging.getLogger("test.observability")
    with logs.bind(session_id="S1", uid="u1", connection_id=""):
        log.info("one")
        with logs.bind(uid="u2"):
            log.info("two")
    log.info("three")
    one, two, three = _logged(lines)
    assert (one["session_id"], one["uid"]) == ("S1", "u1") and "connection_id" not in one
    assert (two["session_id"], two["uid"]) == ("S1", "u2")
    assert "session_id" not in three and "uid" not in three


def test_a_client_frame_may_carry_a_traceparent_and_nothing_else_there() -> None:
    frame = {"type": "PING", "payload": {}, "message_id": "m1", "traceparent": f"00-{TRACE}-{PARENT}-01"}
    assert validate_client_frame(frame).traceparent == frame["traceparent"]
    assert validate_client_frame({"type": "PING", "message_id": "m1"}).traceparent is None
    for bad in (7, "x" * 65):
        with pytest.raises(ProtocolError):
            validate_client_frame({**frame, "traceparent": bad})
