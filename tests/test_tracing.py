"""OpenTelemetry, when CHATGQL_OTEL is on: a span per HTTP request and per GraphQL operation and
resolver, into the app's own tracer provider; none of it when it is off."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gql_api.tracing import build_provider
from tests.conftest import make_settings
from tests.streaming import new_conversation, send
from tests.support import start_api

SECRET_TEXT = "hush-" + uuid.uuid4().hex


def in_memory() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}"


async def test_a_query_makes_http_operation_and_resolver_spans(tmp_path: Path) -> None:
    provider, exporter = in_memory()
    settings = make_settings(tmp_path, sqlite(tmp_path), otel=True)
    async with start_api(settings, tracer_provider=provider) as api:
        conversation = await new_conversation(api)
        exporter.clear()
        await api.gql(
            "query Mine($c: ID!) { conversation(id: $c) { id title } }", {"c": conversation}
        )
        spans = exporter.get_finished_spans()
        names = [span.name for span in spans]
        assert "GraphQL Query: Mine" in names, names
        assert any(name.startswith("POST /graphql") for name in names), names
        by_name = {span.name: span for span in spans}
        operation = by_name["GraphQL Query: Mine"]
        http = next(span for span in spans if span.name == "POST /graphql")
        # the operation's span sits inside the request's, in one trace
        assert operation.context.trace_id == http.context.trace_id
        resolver = [s for s in spans if s.name.startswith("GraphQL Resolving: conversation")]
        assert resolver and resolver[0].parent is not None
        assert resolver[0].context.trace_id == http.context.trace_id

        exporter.clear()
        await send(api, conversation, SECRET_TEXT)
        sent = exporter.get_finished_spans()
        assert any(s.name.startswith("GraphQL Resolving: sendMessage") for s in sent)
        for span in sent:
            attributes = {key: str(value) for key, value in (span.attributes or {}).items()}
            assert not any(SECRET_TEXT in value for value in attributes.values()), span.name


async def test_off_by_default(tmp_path: Path) -> None:
    provider, exporter = in_memory()
    settings = make_settings(tmp_path, sqlite(tmp_path))
    assert settings.otel is False
    async with start_api(settings, tracer_provider=provider) as api:
        await new_conversation(api)
    assert exporter.get_finished_spans() == ()


def test_exporter_comes_from_the_standard_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "chatgql-test")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    provider = build_provider()
    assert provider.resource.attributes["service.name"] == "chatgql-test"
    provider.shutdown()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing is sent
    build_provider().shutdown()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin-over-carrier-pigeon")
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        build_provider()
