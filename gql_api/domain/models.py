"""The models a user may use: those on the server's keys, and those their own keys open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gql_api.db import Database
from gql_api.domain.provider_keys import key_providers
from gql_api.domain.validation import clean_model
from gql_api.providers.catalog import ModelCatalog, ModelInfo

if TYPE_CHECKING:  # domain.users imports this module (preferences check models)
    from gql_api.domain.users import CurrentUser


async def list_models(*, db: Database, catalog: ModelCatalog, user: CurrentUser) -> list[ModelInfo]:
    return catalog.usable(await _own_keys(db, catalog, user))


async def _own_keys(db: Database, catalog: ModelCatalog, user: CurrentUser) -> set[str]:
    """The providers the user has a key for; no query where no provider takes keys."""
    if not any(p.accepts_user_keys for p in catalog.providers.values()):
        return set()
    return await key_providers(db, user.id)


async def check_model(
    *,
    db: Database,
    catalog: ModelCatalog,
    user: CurrentUser,
    model: str | None,
    field: str = "model",
) -> tuple[str | None, set[str]]:
    """`model` (None stays None) when the user may use it, else BAD_USER_INPUT naming those
    they may; with the providers the user has keys for. Checked before anything is stored."""
    name = clean_model(model, field=field)
    keys = await _own_keys(db, catalog, user)
    return (None if name is None else catalog.check(name, keys, field=field)), keys


def answer_model(catalog: ModelCatalog, keys: set[str], candidates: list[str | None]) -> str:
    """The first usable of the send's, the conversation's and the user's model, else the
    default: a model the operator withdrew leaves its conversations working."""
    usable = {m.id for m in catalog.usable(keys)}
    for name in candidates:
        if name is not None and name in usable:
            return name
    return catalog.default_model
