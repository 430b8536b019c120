"""Builds and tears down the process's services (the composition root)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from gql_api import feeds, jobs
from gql_api.auth import TokenVerifier
from gql_api.broker import Broker
from gql_api.db import Database
from gql_api.domain.attachments import collect_orphans
from gql_api.domain.provider_keys import UserKeys, check_base_url
from gql_api.domain.titles import Titler
from gql_api.domain.usage import UsageLedger
from gql_api.domain.users import UserDirectory
from gql_api.liveness import NodeLiveness
from gql_api.metrics import Metrics
from gql_api.persisted import make_persisted_documents
from gql_api.providers.base import ModelProvider
from gql_api.providers.catalog import ModelCatalog, configured_providers
from gql_api.providers.router import ModelRouter
from gql_api.secrets_box import SecretBox
from gql_api.services import Services
from gql_api.settings import Settings
from gql_api.storage import make_store
from gql_api.streams.engine import StreamEngine
from gql_api.tools import ToolRegistry
from gql_api.tools.mcp_client import ConnectionLimits, McpPool
from gql_api.user_limits import UserLimits
from models.nodes import DRAINING, STOPPED

log = logging.getLogger("chatgql")
# Names the tasks of the periodic jobs (sweeper, cleanups), so that code can tell them apart.
JOB_TASK_PREFIX = "chatgql job: "


def in_background_job() -> bool:
    """True inside one of the periodic jobs (a test counting its own statements skips theirs)."""
    task = asyncio.current_task()
    return task is not None and task.get_name().startswith(JOB_TASK_PREFIX)


def make_models(
    settings: Settings, db: Database
) -> tuple[ModelCatalog, SecretBox | None, ModelProvider]:
    """The configured models, the box sealing users' keys, and the provider serving them all."""
    catalog = ModelCatalog(configured_providers(settings), settings)
    # Production needs a key-encryption key only where users may bring keys to store.
    takes_keys = any(p.accepts_user_keys for p in catalog.providers.values())
    box = (
        SecretBox(settings.resolved_encryption_key(), settings.encryption_old_keys)
        if takes_keys or settings.encryption_key or settings.env != "production"
        else None
    )
    allowed = settings.user_base_url_allowed_hosts
    router = ModelRouter(
        catalog,
        keys=UserKeys(db, box) if box is not None else None,
        usage=UsageLedger(db),
        check_url=lambda url: check_base_url(url, allowed_hosts=allowed),
        cache_size=settings.provider_client_cache_size,
        demo_delay=settings.demo_token_delay_seconds,
    )
    return catalog, box, router


class ServiceSources:
    """What /metrics reads from the engine and the broker when it is scraped."""

    def __init__(self, engine: StreamEngine, broker: Broker) -> None:
        self._engine, self._broker = engine, broker

    def active_answers(self) -> int:
        return self._engine.active

    def subscribers(self) -> dict[str, int]:
        return self._broker.subscriber_counts()

    def broker_counts(self) -> tuple[int, int]:
        stats = self._broker.stats()
        return stats.delivered, stats.reconnects


async def sweep(services: Services) -> list[str]:
    """This process's turn at the answers of dead processes (every process runs it)."""
    settings, engine = services.settings, services.engine
    if not engine.accepting and settings.auto_continue:
        return []  # draining: running processes continue them
    if services.liveness is not None and not services.liveness.steady():
        return []
    return await jobs.sweep_orphans(
        services.db,
        services.broker,
        me=services.node_id,
        stale_after=settings.node_stale_after_seconds,
        running=set(engine.running_ids()),
        engine=engine if settings.auto_continue and engine.accepting else None,
        max_continuations=settings.max_continuations,
    )


async def drain(services: Services, *, grace: float, linger: float = 2.0) -> None:
    """SIGTERM: take no new answers, let running ones finish within `grace`, then hand the
    rest to another process (or end them interrupted when none runs). Returns once the
    watchers here have had the end of what ended here (at most `linger` more)."""
    engine, liveness = services.engine, services.liveness
    engine.accepting = False
    running = engine.running_ids()
    log.info("draining: %d answers running, %.0f s to finish", len(running), grace)
    if liveness is not None:
        await liveness.set_state(DRAINING)
    handed: list[str] = []
    if not await engine.settle(grace):
        others = liveness is not None and await liveness.others_running()
        if services.settings.auto_continue and others:
            handed = await engine.hand_off()
            if liveness is not None:
                await liveness.set_state(STOPPED)  # their sweepers take over now
        else:
            await engine.interrupt_all()
    ended = [feeds.stream_channel(s) for s in running if s not in handed]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + linger
    # The end events are published; their watchers here unsubscribe once they have written them.
    while loop.time() < deadline and any(services.broker.subscribers(c) for c in ended):
        await asyncio.sleep(0.02)
    log.info("drained: %d handed off", len(handed))


def make_tools(settings: Settings) -> ToolRegistry:
    limits = ConnectionLimits(
        connect_timeout=settings.mcp_connect_timeout_seconds,
        idle_seconds=settings.mcp_idle_seconds,
        ping_interval=settings.mcp_ping_seconds,
    )
    return ToolRegistry(
        servers=settings.mcp_servers,
        pool=McpPool(limits),
        call_timeout=settings.mcp_call_timeout_seconds,
        max_result_chars=settings.mcp_max_result_chars,
    )


def new_node_id() -> str:
    """Names this process in stream rows, so others can reach it (stop) or sweep it (crash)."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(4)}"


@asynccontextmanager
async def build_services(
    settings: Settings, metrics: Metrics | None = None
) -> AsyncIterator[Services]:
    metrics = metrics or Metrics()
    async with AsyncExitStack() as stack:
        db = Database(settings.database_url, echo=settings.database_echo)
        stack.push_async_callback(db.dispose)
        broker = Broker(settings.broker_url, queue_size=settings.subscription_queue_size)
        await broker.connect()
        stack.push_async_callback(broker.disconnect)
        store = make_store(settings)
        stack.push_async_callback(store.close)
        models, secrets_box, provider = make_models(settings, db)
        close_provider = getattr(provider, "close", None)
        if close_provider is not None:
            stack.push_async_callback(close_provider)
        tools = make_tools(settings)
        stack.push_async_callback(tools.close)
        persisted = make_persisted_documents(settings)
        stack.push_async_callback(persisted.close)
        node_id = new_node_id()
        liveness = NodeLiveness(
            db,
            node_id,
            interval=settings.node_heartbeat_seconds,
            stale_after=settings.node_stale_after_seconds,
            task_name=JOB_TASK_PREFIX + "node heartbeat",
        )
        await liveness.start()
        stack.push_async_callback(liveness.close)
        engine = StreamEngine(
            db=db,
            broker=broker,
            provider=provider,
            tools=tools,
            store=store,
            settings=settings,
            node_id=node_id,
            metrics=metrics,
        )
        await engine.start()

        async def stop_engine() -> None:
            # Shutdown without a drain first (uvicorn's own signal handling, tests): what still
            # runs goes to another process if one can take it, else ends interrupted.
            if engine.running_ids() and settings.auto_continue and await liveness.others_running():
                await engine.hand_off()
                await liveness.set_state(STOPPED)
            await engine.close()

        stack.push_async_callback(stop_engine)
        titler = Titler(
            db=db,
            broker=broker,
            provider=provider,
            settings=settings,
            default_model=models.default_model,
        )
        engine.after_answer = titler.after_answer
        stack.push_async_callback(titler.close)
        user_limits = UserLimits(settings)
        stack.push_async_callback(user_limits.close)
        services = Services(
            settings=settings,
            db=db,
            broker=broker,
            verifier=TokenVerifier(settings),
            users=UserDirectory(db),
            provider=provider,
            models=models,
            secrets_box=secrets_box,
            tools=tools,
            store=store,
            engine=engine,
            node_id=node_id,
            metrics=metrics,
            persisted=persisted,
            user_limits=user_limits,
            liveness=liveness,
            titler=titler,
        )
        stack.callback(metrics.read_from(ServiceSources(engine, broker)))
        background = [
            asyncio.create_task(
                jobs.every(
                    settings.sweep_interval_seconds,
                    lambda: sweep(services),
                    "sweeper",
                ),
                name=JOB_TASK_PREFIX + "sweeper",
            ),
            asyncio.create_task(
                jobs.every(
                    settings.cleanup_interval_seconds,
                    lambda: jobs.delete_old_chunks(db, retention=settings.chunk_retention_seconds),
                    "cleanup",
                ),
                name=JOB_TASK_PREFIX + "cleanup",
            ),
            asyncio.create_task(
                jobs.every(
                    settings.cleanup_interval_seconds,
                    lambda: feeds.delete_old_events(db, retention=settings.feed_retention_seconds),
                    "feed cleanup",
                ),
                name=JOB_TASK_PREFIX + "feed cleanup",
            ),
            asyncio.create_task(
                jobs.every(
                    settings.attachment_cleanup_interval_seconds,
                    lambda: collect_orphans(
                        db, store, older_than=settings.attachment_orphan_grace_seconds
                    ),
                    "attachment cleanup",
                ),
                name=JOB_TASK_PREFIX + "attachment cleanup",
            ),
        ]

        async def stop_background() -> None:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

        stack.push_async_callback(stop_background)
        log.info("chatgql node %s ready (default model: %s)", node_id, models.default_model)
        yield services
