"""The reference chat page (/chat) in headless Chromium against a real server: an answer survives a
reload mid-stream, two tabs stay in step, stop, retry and upload."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from graphql import build_schema, parse, validate

from gql_api.app import create_app
from tests.chat_page_support import Page, subscriptions_sent
from tests.chromium import chromium, requested_urls
from tests.conftest import TEST_SECRET, make_settings
from tests.support import ApiServer, start_api


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        chat_page=True,
        demo_token_delay_seconds=0.01,
        # Saved a second apart: a reloaded page reads less than was streamed, and the snapshot
        # it subscribes to must fill the difference from the generating process's memory.
        flush_interval_ms=1000,
    )
    async with start_api(settings) as server:
        yield server


@pytest.fixture
def driver() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


async def test_reload_mid_answer_continues_without_a_gap(api: ApiServer, driver: Any) -> None:
    page = await Page(driver, api).open()
    await page.new_conversation()
    answer_id = await page.send("Tell me a long story [demo:words=2000]")
    offsets: list[int] = []
    for _ in range(3):  # reloads at random moments of the answer
        await asyncio.sleep(random.uniform(0.1, 0.8))
        # Until more has been saved since the last reload: the page must have something new
        # to resume from (what it reads is saved text; the rest is still only in memory).
        saved = offsets[-1] if offsets else 0
        async with asyncio.timeout(20):
            while len((await page.stored(answer_id))["content"]) <= saved:
                await asyncio.sleep(0.05)
        await page.call(driver.get_log, "performance")  # forget the frames before the reload
        await page.reload()
        # The reloaded page has the answer again, still being written, and follows it.
        await page.until(
            f"return document.querySelector(`.message[data-message-id='{answer_id}']`)"
            "?.dataset.status",
            "STREAMING",
        )
        # It asked only for what it did not have: the length of the text it read.
        sent = [
            payload["variables"]["offset"]
            for payload in await page.call(subscriptions_sent, driver)
            if "streamEvents" in payload["query"]
        ]
        assert len(sent) == 1 and sent[0] > saved
        offsets.append(sent[0])
    text = await page.until_answer(answer_id, "COMPLETE", timeout=60)
    stored = await page.stored(answer_id)
    assert stored["status"] == "COMPLETE"
    assert text == stored["content"]  # nothing missing, nothing twice
    assert offsets[-1] < len(text)


async def test_a_dropped_socket_resumes_from_what_the_page_has(api: ApiServer, driver: Any) -> None:
    page = await Page(driver, api).open()
    await page.new_conversation()
    answer_id = await page.send("Tell me a long story [demo:words=800]")
    for _ in range(2):
        await asyncio.sleep(random.uniform(0.2, 0.8))
        await page.call(driver.get_log, "performance")
        shown = await page.js("return window.chatgql.messages.get(arguments[0]).length", answer_id)
        await page.js("window.chatgql.socket.ws.close()")  # as if the network dropped
        await page.until("return document.querySelector('#connection').textContent", "online")
        await page.until(
            "return document.querySelector('#connection').textContent === 'online'"
            f" && !!window.chatgql.answers.watching('{answer_id}')"
        )
        sent = [
            payload["variables"]["offset"]
            for payload in await page.call(subscriptions_sent, driver)
            if "streamEvents" in payload["query"]
        ]
        # Sent again on the new socket, from at least what the page showed before the drop.
        assert len(sent) == 1 and sent[0] >= shown > 0
    text = await page.until_answer(answer_id, "COMPLETE", timeout=60)
    assert text == (await page.stored(answer_id))["content"]


async def test_two_tabs_stay_in_step(api: ApiServer, driver: Any) -> None:
    first = await Page(driver, api).open()
    second = await Page(driver, api).open(new_tab=True)
    conversation_id = await second.new_conversation()
    # Created in the second tab: the first lists it without reloading.
    await first.until(
        f"return !!document.querySelector(`li[data-conversation-id='{conversation_id}']`)"
    )
    await first.click(f"li[data-conversation-id='{conversation_id}']")
    await first.until(
        "return new URLSearchParams(location.hash.slice(1)).get('c')", conversation_id
    )
    answer_id = await second.send("Hello from the other tab [demo:words=80]")
    # The first tab shows the message and follows its answer to the same end.
    text = await first.until_answer(answer_id, "COMPLETE")
    assert text == (await first.stored(answer_id))["content"]
    assert (
        await first.js(
            "return document.querySelector('.message[data-role=\"USER\"] .text').textContent"
        )
        == "Hello from the other tab [demo:words=80]"
    )


async def test_stop_ends_the_answer_cancelled(api: ApiServer, driver: Any) -> None:
    page = await Page(driver, api).open()
    # No chat picked: sending starts one.
    answer_id = await page.send("Write a lot [demo:long]")
    await page.until("return !document.querySelector('#stop').hidden")
    await page.until(
        f"return document.querySelector(`.message[data-message-id='{answer_id}'] .text`)"
        ".textContent.length > 20"
    )
    await page.click("#stop")
    text = await page.until_answer(answer_id, "CANCELLED")
    status_label = await page.js(
        f"return document.querySelector(`.message[data-message-id='{answer_id}'] .status`)"
        ".textContent"
    )
    assert status_label == "cancelled"
    assert await page.js("return document.querySelector('#stop').hidden")
    stored = await page.stored(answer_id)
    assert stored["status"] == "CANCELLED"
    assert text == stored["content"] and 20 < len(text)


async def test_upload_then_retry(api: ApiServer, driver: Any, tmp_path: Path) -> None:
    page = await Page(driver, api).open()
    await page.new_conversation()
    note = tmp_path / "notes.txt"
    note.write_text("remember the milk\n")
    attach = await page.call(driver.find_element, "css selector", "#attach")
    await page.call(attach.send_keys, str(note))
    await page.until(
        "return document.querySelector('#pending-attachments').textContent", "📎 notes.txt"
    )
    answer_id = await page.send("What does my note say? [demo:words=20]")
    first_text = await page.until_answer(answer_id, "COMPLETE")
    user_attachments = await page.js(
        "return document.querySelector('.message[data-role=\"USER\"] .attachments').textContent"
    )
    assert user_attachments == "📎 notes.txt"

    await page.click(f".message[data-message-id='{answer_id}'] .retry")
    # The new answer (a sibling of the first) takes the first one's place on the page.
    new_id = await page.until(
        "const ids = [...document.querySelectorAll('.message[data-role=\"ASSISTANT\"]')]"
        ".map((e) => e.dataset.messageId);"
        f" return ids.length === 1 && ids[0] !== '{answer_id}' ? ids[0] : null"
    )
    text = await page.until_answer(new_id, "COMPLETE")
    stored = await page.stored(new_id)
    assert stored["siblings"]["ids"] == [answer_id, new_id] and text == stored["content"]
    assert first_text == (await page.stored(answer_id))["content"]  # the first answer is kept


async def test_the_page_needs_nothing_but_the_server(api: ApiServer) -> None:
    """No CDN: with every other host unreachable the page loads and talks to chatgql, and every
    request it makes goes to chatgql's own address."""
    with chromium(offline=True) as offline_driver:
        page = await Page(offline_driver, api).open()
        await page.new_conversation()
        answer_id = await page.send("offline? [demo:words=10]")
        await page.until_answer(answer_id, "COMPLETE")
        urls = await page.call(requested_urls, offline_driver)
    page_urls = [url for url in urls if url.startswith(("http", "ws"))]  # not chrome:// pages
    origins = {urlsplit(url).netloc for url in page_urls}
    assert origins == {urlsplit(api.url).netloc}, page_urls


async def test_a_refused_token_is_dropped_and_asked_for(api: ApiServer, driver: Any) -> None:
    page = Page(driver, api)
    await page.call(driver.get, f"{api.url}/chat/")
    await page.js("localStorage.setItem('chatgql.token', 'not-a-token')")
    await page.call(driver.refresh)
    await page.until("return document.querySelector('#connection').textContent", "rejected")
    assert await page.js("return localStorage.getItem('chatgql.token')") is None
    assert await page.js("return document.querySelector('#token-box').open")
    assert "refused" in await page.js("return document.querySelector('#error').textContent")


async def test_the_page_is_off_in_production(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", env="production")
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.get("/chat/")).status_code == 404
        assert (await client.get("/chat/dev-token")).status_code == 404
        assert (await client.get("/chat/assets/app.js")).status_code == 404


async def test_the_page_hands_out_a_development_token_only_in_development(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    tokens = {}
    for env in ("development", "test"):
        app = create_app(make_settings(tmp_path, database, env=env, chat_page=True))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            assert (await client.get("/chat/")).status_code == 200
            response = await client.get("/chat/dev-token")
            tokens[env] = response.json()["token"] if response.status_code == 200 else None
    assert tokens["test"] is None
    claims = jwt.decode(tokens["development"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "dev"


def test_the_pages_operations_are_valid_against_the_schema() -> None:
    """The page sends its own documents (gql_api/chat/assets): a schema change that breaks one
    fails here, not only in a browser."""
    node = require_node()
    assets = Path(__file__).resolve().parent.parent / "gql_api/chat/assets"
    script = (
        f"const ops = await import({json.dumps((assets / 'operations.js').as_uri())});"
        f"const answers = await import({json.dumps((assets / 'answers.js').as_uri())});"
        "const docs = [...Object.values(ops), answers.STREAM_EVENTS];"
        "console.log(JSON.stringify(docs.filter((d) => typeof d === 'string')));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    documents = json.loads(result.stdout)
    assert len(documents) >= 10
    schema = build_schema((assets.parents[2] / "schema.graphql").read_text())
    for document in documents:
        errors = validate(schema, parse(document))
        assert not errors, (document, [error.message for error in errors])


def test_how_the_page_folds_events_into_an_answer() -> None:
    """Overlapping frames, gaps and an end shorter than the text shown: cases a browser test
    cannot cause on purpose, run under node's test runner (tests/chat_page/answers.test.mjs)."""
    script = Path(__file__).resolve().parent / "chat_page/answers.test.mjs"
    result = subprocess.run([require_node(), "--test", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required under CI (.ci/run installs it)")
        pytest.skip("node is not installed")
    return node
