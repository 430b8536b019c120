"""All configuration, from `CHATGQL_*` environment variables (and `ANTHROPIC_API_KEY`)."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gql_api.providers.config import ProviderConfig
from gql_api.tools.mcp_config import McpServerConfig, check_unique

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development"}


class UserLimitOverride(BaseModel):
    """One user's limits in place of the defaults (unset: the default)."""

    model_config = ConfigDict(extra="forbid")

    answers: int | None = Field(default=None, ge=0)
    per_minute: int | None = Field(default=None, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHATGQL_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # Holds the default SQLite file, the development JWT secret and local attachments.
    data_dir: Path = Path("var")

    database_url: str = ""  # default: SQLite file data_dir / "chatgql.db"
    database_echo: bool = False
    broker_url: str = "memory://"

    # Auth: HS256 with a secret, or RS256/ES256 from a JWKS URL.
    jwt_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_algorithms: list[str] = ["HS256"]
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 30

    # Model
    anthropic_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CHATGQL_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    anthropic_base_url: str | None = None
    anthropic_timeout_seconds: float = 600.0
    anthropic_max_retries: int = 2  # the SDK retries only the opening request
    # The model used when neither the send, the conversation nor the user names one; unset: the
    # first model of the first provider.
    default_model: str | None = None
    # What the implicit Anthropic provider (ANTHROPIC_API_KEY, no provider list) offers.
    anthropic_models: list[str] = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"]
    # The operator's providers (a JSON list), and/or a JSON or TOML file with more.
    providers: list[ProviderConfig] = []
    providers_file: Path | None = None
    # Model that writes conversation titles; unset: the model that gave the first answer.
    title_model: str | None = None
    max_output_tokens: int = 4096
    system_prompt: str = "You are a helpful assistant."
    demo_token_delay_seconds: float = 0.03

    # Users' own provider keys: encrypted under CHATGQL_ENCRYPTION_KEY (base64 of 32 bytes);
    # keys it replaced stay listed in CHATGQL_ENCRYPTION_OLD_KEYS until `chatgql rotate-keys`.
    encryption_key: str | None = None
    encryption_old_keys: list[str] = []
    # Hosts a user's base URL may name although they resolve to loopback or private addresses.
    user_base_url_allowed_hosts: list[str] = []
    provider_client_cache_size: int = 64  # SDK clients kept for users' keys, least recent out

    # Stream engine
    # Bounds what a crash can lose; subscribers that need unsaved text ask for a flush at once.
    flush_interval_ms: int = 500
    flush_max_bytes: int = 4096
    # Liveness: each process writes a heartbeat of its own (one row, not one per stream); a
    # stream is taken over or ended only when its process's heartbeat is older than this.
    node_heartbeat_seconds: float = 1.0
    node_stale_after_seconds: float = 4.0
    sweep_interval_seconds: float = 1.0
    # Answers cut by a crash, a drain past its grace or a dropped provider connection are
    # continued from their saved text, on the same stream, at most this many times each.
    auto_continue: bool = True
    max_continuations: int = 3
    # On SIGTERM: no new answers; running ones get this long to finish before they are
    # handed to another process (or end interrupted when there is none).
    drain_grace_seconds: float = 30.0
    chunk_retention_seconds: float = 6 * 3600
    cleanup_interval_seconds: float = 300.0
    # How long `activity(after:)` can replay; older cursors get FeedResync.
    feed_retention_seconds: float = 6 * 3600

    # Tools: rounds of tool calls per answer (the last round offers none, so the model answers);
    # MCP servers for everyone (a JSON list, see the README) and the limits of their calls.
    tool_max_rounds: int = Field(default=8, ge=1)
    tool_approval_timeout_seconds: float = 300.0  # an undecided call is denied then
    mcp_servers: list[McpServerConfig] = []
    mcp_call_timeout_seconds: float = 60.0
    mcp_connect_timeout_seconds: float = 10.0
    mcp_idle_seconds: float = 300.0
    mcp_ping_seconds: float = 5.0
    mcp_max_result_chars: int = Field(default=20_000, ge=200)

    # GraphQL limits
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_tokens: int = 2000
    max_subscriptions_per_connection: int = 50
    subscription_queue_size: int = 256
    max_message_chars: int = 100_000
    max_title_chars: int = 200
    page_size_max: int = 100
    # importConversations: the document as compact JSON. It comes as a variable, so the
    # request limits below bound it too: raise them with it.
    max_import_bytes: int = 512 * 1024
    # Byte limits of an HTTP request, checked before anything is parsed (multipart uploads
    # keep their own limit, max_upload_bytes).
    max_body_bytes: int = 1024 * 1024
    max_query_bytes: int = 64 * 1024
    max_variables_bytes: int = 512 * 1024
    # Bytes of query text kept in the document caches (parsed and validated documents).
    document_cache_bytes: int = 8 * 1024 * 1024

    # Per-user limits on answers: how many run at once and how many sends (and retries) a
    # minute. Overrides per user: a JSON map of user subject -> {"answers": n, "per_minute": m}.
    max_running_answers: int = 8
    max_sends_per_minute: int = 60
    user_limits: dict[str, UserLimitOverride] = {}

    # Attachments
    storage_backend: Literal["local", "s3"] = "local"
    storage_path: Path | None = None  # default: data_dir / "attachments"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "chatgql"
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    user_quota_bytes: int = 500 * 1024 * 1024
    allowed_media_types: list[str] = [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/csv",
        "application/json",
    ]
    signed_url_ttl_seconds: int = 900
    public_base_url: str | None = None  # for signed links; default http://host:port
    # Cleanup of attachment bytes without a row (and rows without bytes); objects younger
    # than the grace period are left alone, as their upload may still be in flight.
    attachment_cleanup_interval_seconds: float = 3600.0
    attachment_orphan_grace_seconds: float = 3600.0

    # Operations: Prometheus metrics at /metrics (each process its own), logs, tracing.
    metrics: bool = True
    metrics_token: str | None = None  # when set, /metrics wants `Authorization: Bearer <it>`
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # OpenTelemetry traces, exported as the standard OTEL_* variables say (needs the `otel` extra)
    otel: bool = False
    # Browsers: origins (exact, or patterns with `*`) whose pages may call the API; empty means
    # same origin only. Credentials (cookies) are never needed for bearer tokens: off by default.
    cors_origins: list[str] = []
    cors_allow_credentials: bool = False
    # GraphiQL at GET /graphql, and introspection: on unless env is production.
    graphiql: bool | None = None
    introspection: bool | None = None
    # The reference chat page at /chat (gql_api/chat/): on in development unless set; it can
    # hand out a development token there, so never on in production unless asked for.
    chat_page: bool | None = None
    # Persisted documents: Apollo's automatic persisted queries, cached up to a byte budget (in
    # Redis, shared by every process, when the broker is Redis); or, with a trusted documents
    # manifest, only the documents it lists.
    persisted_queries: bool = True
    persisted_queries_max_bytes: int = 16 * 1024 * 1024
    persisted_queries_ttl_seconds: int = 24 * 3600
    trusted_documents: Path | None = None

    @model_validator(mode="after")
    def _check_mcp(self) -> Settings:
        check_unique(self.mcp_servers)
        return self

    @model_validator(mode="after")
    def _check_cors(self) -> Settings:
        if self.cors_allow_credentials and "*" in self.cors_origins:
            raise ValueError("CHATGQL_CORS_ALLOW_CREDENTIALS cannot be used with the origin '*'")
        return self

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.env != "production"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else self.env != "production"

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.env == "production" and not self.jwt_jwks_url:
            if self.jwt_secret is None or self.jwt_secret.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("CHATGQL_JWT_SECRET must be set to a real secret in production")
            if len(self.jwt_secret) < 32:
                raise ValueError("CHATGQL_JWT_SECRET must be at least 32 characters")
        return self

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            # An absolute path: the database follows data_dir, not the working directory.
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'chatgql.db').resolve()}"
        return self

    @property
    def attachments_path(self) -> Path:
        return self.storage_path or self.data_dir / "attachments"

    @property
    def chat_page_enabled(self) -> bool:
        return self.chat_page if self.chat_page is not None else self.env == "development"

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    def resolved_jwt_secret(self) -> str | None:
        """The HS256 secret; in development a random one is generated once and kept in data_dir."""
        if self.jwt_secret or self.jwt_jwks_url:
            return self.jwt_secret
        if self.env == "production":
            return None
        return _generated_secret(self.data_dir / "dev-jwt-secret", secrets.token_urlsafe(48))

    def resolved_encryption_key(self) -> str:
        """The key-encryption key; generated once into data_dir outside production."""
        if self.encryption_key:
            return self.encryption_key
        if self.env == "production":
            raise ValueError("CHATGQL_ENCRYPTION_KEY must be set in production")
        fresh = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        return _generated_secret(self.data_dir / "dev-encryption-key", fresh)


def _generated_secret(path: Path, fresh: str) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 (never briefly world-readable) and exclusively: when two processes
        # race here, the loser keeps the winner's secret instead of overwriting it.
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(fresh)
    return path.read_text().strip()
