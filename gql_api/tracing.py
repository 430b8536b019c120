"""Optional OpenTelemetry traces: a span per HTTP request (ASGI middleware) and per GraphQL
operation and resolver (Strawberry's extension), sent where the standard `OTEL_*` variables say.

Needs the `otel` extra (`pip install 'chatgql[otel]'`); imported only when `CHATGQL_OTEL=true`.
The provider belongs to the app, not to the process-wide global, so that tests can build apps
with their own exporters.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def build_provider() -> TracerProvider:
    """A provider exporting in batches to what OTEL_TRACES_EXPORTER names: `otlp` (the default,
    over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT), `console` or `none`. Service name and resource
    attributes come from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    service = os.environ.get("OTEL_SERVICE_NAME", "chatgql")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if kind == "none":
        return provider
    if kind == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        raise ValueError(f"OTEL_TRACES_EXPORTER={kind!r}: chatgql knows otlp, console, none")
    return provider


def no_arguments(_args: dict[str, Any], _info: Any) -> dict[str, Any]:
    """Resolver arguments stay out of spans: they carry message text."""
    return {}


def graphql_extension(provider: TracerProvider) -> Any:
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return lambda: OpenTelemetryExtension(arg_filter=no_arguments, tracer_provider=provider)
