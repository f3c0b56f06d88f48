"""One trace per player frame, across every hop, with OpenTelemetry.

The W3C trace context (`traceparent`) travels in the client frame (optional), the
`quiz-commands` attributes, the Cloud Task's headers and the `quiz-events` attributes, so
gateway -> on_command -> flush -> gateway fan-out is one trace. Logs written inside a span
carry its trace id (vocabquiz/observability/logs.py) whether or not any span is exported.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.cloud_trace_propagator import CloudTraceFormatPropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
EXPORTERS = ("cloud_trace", "otlp", "console", "none")
# version-traceid-parentid-flags, lower-case hex (W3C Trace Context, level 1).
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")

_W3C = TraceContextTextMapPropagator()
# On Google Cloud an HTTP request also carries X-Cloud-Trace-Context (set by the front
# end); the W3C header, read last, wins when both are there.
_INCOMING = CompositePropagator([CloudTraceFormatPropagator(), _W3C])


Carrier = TypeVar("Carrier", bound=MutableMapping[str, str])


class TraceConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class TraceSettings:
    service_name: str
    project_id: str
    exporter: str  # one of EXPORTERS (select_exporter)
    otlp_endpoint: str = ""
    # Share of new traces whose spans are recorded and exported; ids exist either way.
    sample_ratio: float = 1.0


def select_exporter(requested: str, production: bool, otlp_endpoint: str) -> str:
    """OTEL_TRACES_EXPORTER when set; else Cloud Trace in production, an OTLP endpoint
    when one is configured, and no export at all on a laptop that asked for none."""
    requested = requested.strip().lower()
    if requested:
        if requested not in EXPORTERS:
            raise TraceConfigError(
                f"OTEL_TRACES_EXPORTER={requested!r}: expected one of {', '.join(EXPORTERS)}"
            )
        return requested
    if production:
        return "cloud_trace"
    return "otlp" if otlp_endpoint else "none"


def parse_sample_ratio(text: str) -> float:
    try:
        ratio = float(text)
    except ValueError:
        raise TraceConfigError(f"TRACE_SAMPLE_RATIO={text!r} is not a number") from None
    if not 0.0 <= ratio <= 1.0:  # also refuses nan
        raise TraceConfigError(f"TRACE_SAMPLE_RATIO={text!r} must be between 0 and 1")
    return ratio


# Until configure() runs (unit tests, tools), spans get real ids and go nowhere.
_provider = TracerProvider()
_tracer = _provider.get_tracer("quiz")


def configure(settings: TraceSettings) -> TracerProvider:
    """Install the tracer provider for this process (call once, at start)."""
    global _provider, _tracer
    resource = Resource.create({"service.name": settings.service_name, "gcp.project_id": settings.project_id})
    provider = TracerProvider(resource=resource, sampler=sampler_for(settings))
    exporter = _exporter(settings)
    if exporter is not None:
        # Spans leave in batches on the processor's own thread, never on a request's path.
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
    _provider, _tracer = provider, provider.get_tracer("quiz")
    trace.set_tracer_provider(provider)  # for libraries that trace through the global API
    return provider


def sampler_for(settings: TraceSettings) -> Sampler:
    """A span whose parent was sampled is sampled; any other is decided by the ratio on
    its trace id, so every service takes the same decision for the same trace."""
    ratio = TraceIdRatioBased(settings.sample_ratio)
    return ParentBased(root=ratio, remote_parent_not_sampled=ratio)


def _exporter(settings: TraceSettings) -> SpanExporter | None:
    if settings.exporter == "cloud_trace":
        from opentelemetry.exporter.cloud_trace import CloudTraceSpanExporter

        return CloudTraceSpanExporter(project_id=settings.project_id)  # type: ignore[no-untyped-call]
    if settings.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = (settings.otlp_endpoint or "http://localhost:4318").rstrip("/")
        return OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
    if settings.exporter == "console":
        # One JSON object per line, like every other line the process writes.
        return ConsoleSpanExporter(out=sys.stdout, formatter=_one_line)
    if settings.exporter == "none":
        return None
    raise TraceConfigError(f"Unknown trace exporter {settings.exporter!r}")


def _one_line(span: ReadableSpan) -> str:
    return f"{span.to_json(indent=None)}\n"


def tracer() -> trace.Tracer:
    return _tracer


def inject(carrier: Carrier, context: Context | None = None) -> Carrier:
    """Add the current (or given) trace context to Pub/Sub attributes or HTTP headers."""
    _W3C.inject(carrier, context=context)
    return carrier


def extract(carrier: Mapping[str, str]) -> Context:
    """The trace context a message or request carries; an empty one (a new trace) when
    it carries none or a malformed one."""
    return _INCOMING.extract(carrier)


@contextmanager
def within(carrier: Mapping[str, str]) -> Iterator[None]:
    """Make the context a message carries current without starting a span: lines logged
    inside name its trace (one command of a batch, say), at no span's cost."""
    token = otel_context.attach(extract(carrier))
    try:
        yield
    finally:
        otel_context.detach(token)


def from_client_traceparent(traceparent: str | None) -> Context:
    """The context of a client frame's optional traceparent: its trace id and parent span
    are kept, its sampled flag is not (a client could otherwise have every frame it sends
    recorded), so the ratio decides. Malformed or absent: an empty context, a new trace."""
    if not traceparent or not _TRACEPARENT.fullmatch(traceparent):
        return Context()
    _, trace_id, span_id, _ = traceparent.split("-")
    parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True, trace_flags=TraceFlags(0))
    if not parent.is_valid:
        return Context()
    return trace.set_span_in_context(NonRecordingSpan(parent))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    return inject(carrier).get(TRACEPARENT)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside any span."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
