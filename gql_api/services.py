"""The composition root's product: every long-lived dependency, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gql_api.auth import TokenVerifier
from gql_api.db import Database
from gql_api.domain.users import UserDirectory
from gql_api.metrics import Metrics
from gql_api.settings import Settings

if TYPE_CHECKING:
    from gql_api.broker import Broker
    from gql_api.domain.titles import Titler
    from gql_api.liveness import NodeLiveness
    from gql_api.persisted import PersistedDocuments
    from gql_api.providers.base import ModelProvider
    from gql_api.providers.catalog import ModelCatalog
    from gql_api.secrets_box import SecretBox
    from gql_api.storage.base import ObjectStore
    from gql_api.streams.engine import StreamEngine
    from gql_api.tools import ToolRegistry
    from gql_api.user_limits import UserLimits


@dataclass
class Services:
    settings: Settings
    db: Database
    broker: Broker
    verifier: TokenVerifier
    users: UserDirectory
    provider: ModelProvider
    models: ModelCatalog
    secrets_box: SecretBox | None  # None: no provider takes users' keys (nor needs the KEK)
    tools: ToolRegistry
    store: ObjectStore
    engine: StreamEngine
    node_id: str
    persisted: PersistedDocuments
    user_limits: UserLimits
    metrics: Metrics = field(default_factory=Metrics)
    liveness: NodeLiveness | None = None
    titler: Titler | None = None
