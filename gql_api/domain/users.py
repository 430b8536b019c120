"""Users: created on first use from the token, and their preferences."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from gql_api.auth import Identity
from gql_api.db import Database
from gql_api.domain.models import check_model
from gql_api.domain.validation import refuse_nul
from gql_api.errors import InvalidInput
from gql_api.providers.catalog import ModelCatalog
from models.users import User, user_by_subject

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class CurrentUser:
    id: str
    subject: str


class UserDirectory:
    """Maps token subjects to user ids, creating users on first use; remembers ids per process."""

    def __init__(self, db: Database, *, cache_size: int = 10_000) -> None:
        self._db = db
        self._ids: dict[str, str] = {}
        self._cache_size = cache_size

    async def resolve(self, identity: Identity) -> CurrentUser:
        user_id = self._ids.get(identity.subject)
        if user_id is None:
            user_id = await self._ensure(identity)
            if len(self._ids) >= self._cache_size:
                self._ids.clear()
            self._ids[identity.subject] = user_id
        return CurrentUser(id=user_id, subject=identity.subject)

    async def _ensure(self, identity: Identity) -> str:
        async with self._db.write() as session:
            user = await user_by_subject(session, identity.subject)
            if user is not None:
                if identity.email and user.email != identity.email:
                    user.email = identity.email
                if identity.name and user.name != identity.name:
                    user.name = identity.name
                return user.id
        try:
            async with self._db.write() as session:
                user = User(subject=identity.subject, email=identity.email, name=identity.name)
                session.add(user)
                await session.flush()
                return user.id
        except IntegrityError:
            # Another process created the same user between our read and write.
            async with self._db.read() as session:
                existing = await user_by_subject(session, identity.subject)
                assert existing is not None
                return existing.id


async def get_user(*, db: Database, user: CurrentUser) -> User:
    async with db.read() as session:
        row = await session.get(User, user.id)
    assert row is not None  # resolved from the token moments ago; users are never deleted here
    return row


async def update_preferences(
    *,
    db: Database,
    user: CurrentUser,
    known_tools: list[str],
    default_model: str | None = None,
    theme: str | None = None,
    tools_enabled: list[str] | None = None,
    clear_default_model: bool = False,
    catalog: ModelCatalog,
) -> User:
    # "" is refused like any other malformed name
    model, _ = await check_model(
        db=db, catalog=catalog, user=user, model=default_model, field="defaultModel"
    )
    if theme is not None and theme not in THEMES:
        raise InvalidInput(f"theme must be one of {', '.join(THEMES)}", field="theme")
    if tools_enabled is not None:
        for tool in tools_enabled:  # before the names are echoed in a message
            refuse_nul(tool, "toolsEnabled")
        unknown = sorted(set(tools_enabled) - set(known_tools))
        if unknown:
            raise InvalidInput(f"unknown tools: {', '.join(unknown)}", field="toolsEnabled")
    async with db.write() as session:
        row = await session.get(User, user.id)
        assert row is not None
        if model is not None or clear_default_model:
            row.default_model = model
        if theme is not None:
            row.theme = theme
        if tools_enabled is not None:
            row.tools_enabled = sorted(set(tools_enabled))
    return row
