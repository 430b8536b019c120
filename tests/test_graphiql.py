"""GraphiQL served with its own files (offline in a real browser), the development token, and
the GraphiQL and introspection settings."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from gql_api.graphiql import ASSETS_PATH, assets
from tests.chromium import chromium, requested_urls, require_chromium
from tests.conftest import TEST_SECRET, make_settings
from tests.support import ApiServer, start_api

HTML = {"Accept": "text/html"}


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'chatgql.db'}"


@pytest.fixture
async def dev_api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    settings = make_settings(tmp_path, sqlite(tmp_path), env="development")
    async with start_api(settings) as server:
        yield server


def page_config(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="chatgql-config" type="application/json">(.*?)</script>', html)
    assert found is not None
    config: dict[str, Any] = json.loads(found.group(1))
    return config


async def test_the_page_uses_only_its_own_files(dev_api: ApiServer) -> None:
    response = await dev_api.http.get("/graphql", headers=HTML)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    html = response.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(sources) == sorted(f"{ASSETS_PATH}/{a['name']}" for a in assets()) + ["data:,"]
    for asset in assets():
        assert f'integrity="{asset["integrity"]}"' in html
        for encoding in ("gzip", "identity"):
            served = await dev_api.http.get(
                f"{ASSETS_PATH}/{asset['name']}", headers={"Accept-Encoding": encoding}
            )
            assert served.status_code == 200
            assert served.headers.get("content-encoding", "identity") == encoding
            digest = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
            assert f"sha384-{digest}" == asset["integrity"]
    missing = await dev_api.http.get(f"{ASSETS_PATH}/../settings.py")
    assert missing.status_code == 404


async def test_development_fills_in_a_working_token(dev_api: ApiServer) -> None:
    config = page_config((await dev_api.http.get("/graphql", headers=HTML)).text)
    authorization = json.loads(config["headers"])["Authorization"]
    response = await dev_api.http.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": authorization}
    )
    assert response.json() == {"data": {"me": {"name": "dev"}}}
    assert [t["query"].count("mutation SendMessage") for t in config["tabs"]] == [1, 0]
    assert "subscription WatchAnswer" in config["tabs"][1]["query"]


async def test_outside_development_no_token_is_given(tmp_path: Path) -> None:
    async with start_api(make_settings(tmp_path, sqlite(tmp_path), env="test")) as api:
        config = page_config((await api.http.get("/graphql", headers=HTML)).text)
        assert json.loads(config["headers"]) == {"Authorization": "Bearer <your token>"}


async def introspect(api: ApiServer) -> dict[str, Any]:
    return await api.raw(get_introspection_query())


async def test_production_has_neither_graphiql_nor_introspection(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sqlite(tmp_path), env="production", jwt_secret=TEST_SECRET)
    async with start_api(settings) as api:
        assert (await api.http.get("/graphql", headers=HTML)).status_code == 404
        asset = assets()[0]["name"]
        assert (await api.http.get(f"{ASSETS_PATH}/{asset}")).status_code == 404
        refused = await introspect(api)
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "introspection" in refused["errors"][0]["message"]
        assert await api.gql("{ me { name } }") == {"me": {"name": "Alice"}}
        typename = await api.gql("{ __typename }")  # not introspection of the schema
        assert typename == {"__typename": "Query"}


async def test_production_can_turn_them_on(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        sqlite(tmp_path),
        env="production",
        jwt_secret=TEST_SECRET,
        graphiql=True,
        introspection=True,
    )
    async with start_api(settings) as api:
        page = await api.http.get("/graphql", headers=HTML)
        assert page.status_code == 200
        assert json.loads(page_config(page.text)["headers"])["Authorization"].endswith("token>")
        assert "errors" not in await introspect(api)


# Runs in the page: send a message with the Headers tab's token; returns the answer's id.
SEND = """
const done = arguments[arguments.length - 1];
const headers = {...JSON.parse(config.headers), "Content-Type": "application/json"};
const post = async (query) =>
  (await fetch(url, {method: "POST", headers, body: JSON.stringify({query})})).json();
(async () => {
  const created = await post("mutation { createConversation { id } }");
  const id = created.data.createConversation.id;
  const sent = await post(`mutation { sendMessage(input: {conversationId: "${id}",
    content: "hi"}) { assistantMessage { id } } }`);
  return sent.data.sendMessage.assistantMessage.id;
})().then(done, (error) => done({error: String(error)}));
"""
EDITOR = "return document.querySelector(arguments[0]).CodeMirror"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
RESULT = ".result-window .CodeMirror"
TABS = "document.querySelectorAll('.graphiql-tab-button')"
EXECUTE = "document.querySelector('.graphiql-execute-button')"


def browse_offline(url: str, screenshot: Path) -> tuple[list[str], list[str], Any]:
    """Open GraphiQL, send a message, run the WatchAnswer tab as a person would; the tab
    names, the URLs the browser asked for, and the result pane at the end."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def editor_text(driver: Any, selector: str) -> str:
        text: str = driver.execute_script(EDITOR + ".getValue()", selector)
        return text

    with chromium(offline=True) as driver:
        wait = WebDriverWait(driver, 30)
        driver.get(url)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, QUERY_EDITOR))
        wait.until(lambda d: "mutation SendMessage" in editor_text(d, QUERY_EDITOR))
        tabs = driver.execute_script(f"return Array.from({TABS}).map(b => b.textContent)")
        message_id = driver.execute_async_script(SEND)
        assert isinstance(message_id, str), message_id
        driver.execute_script(f"{TABS}[1].click()")
        wait.until(lambda d: "subscription WatchAnswer" in editor_text(d, QUERY_EDITOR))
        variables = json.dumps({"messageId": message_id})
        driver.execute_script(
            EDITOR + ".setValue(arguments[1])", ".graphiql-editor-tool .CodeMirror", variables
        )
        # one operation in the tab: the play button runs it (with two it opens a menu)
        wait.until(lambda d: d.execute_script(f"return !{EXECUTE}.hasAttribute('aria-haspopup')"))
        driver.execute_script(f"{EXECUTE}.click()")
        # a subscription's result pane shows its latest event: the end, once it has come
        try:
            wait.until(lambda d: "StreamEnd" in editor_text(d, RESULT))
        finally:
            driver.save_screenshot(str(screenshot))
        result = json.loads(editor_text(driver, RESULT))
        return tabs, requested_urls(driver), result


async def test_graphiql_works_offline_in_chromium(dev_api: ApiServer, tmp_path: Path) -> None:
    require_chromium()
    tabs, urls, result = await asyncio.to_thread(
        browse_offline, f"{dev_api.url}/graphql", tmp_path / "graphiql.png"
    )
    assert tabs == ["CreateConversation", "WatchAnswer"]
    end = result["data"]["streamEvents"]
    assert end["__typename"] == "StreamEnd" and end["status"] == "COMPLETED", result
    assert end["length"] > 0
    web = [u for u in urls if u.split(":", 1)[0] in ("http", "https", "ws", "wss")]
    assert web and all(httpx.URL(u).host == "127.0.0.1" for u in web), web
    assert any(u.startswith("ws://127.0.0.1") for u in web)
    assert (tmp_path / "graphiql.png").stat().st_size > 10_000
