"""The reference chat page driven in headless Chromium: one tab as a `Page`, and the
graphql-transport-ws frames it sent (from Chrome's performance log)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support import ApiServer

MESSAGE = """query($id: ID!) { message(id: $id) {
  content status siblings { ids } attachments { name } } }"""
ASSISTANT = '.message[data-role="ASSISTANT"]'


def subscriptions_sent(driver: Any) -> list[dict[str, Any]]:
    """Payloads of the graphql-transport-ws subscribe frames sent since the last look."""
    payloads = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.webSocketFrameSent":
            frame = json.loads(message["params"]["response"]["payloadData"])
            if frame.get("type") == "subscribe":
                payloads.append(frame["payload"])
    return payloads


class Page:
    """One browser tab on the chat page; Selenium's blocking calls run in a thread."""

    def __init__(self, driver: Any, api: ApiServer) -> None:
        self.driver = driver
        self.api = api
        self.handle: str | None = None

    async def call(self, fn: Any, *args: Any) -> Any:
        if self.handle is not None and self.driver.current_window_handle != self.handle:
            await asyncio.to_thread(self.driver.switch_to.window, self.handle)
        return await asyncio.to_thread(fn, *args)

    async def js(self, script: str, *args: Any) -> Any:
        return await self.call(self.driver.execute_script, script, *args)

    async def open(self, user: str = "alice", *, new_tab: bool = False) -> Page:
        if new_tab:
            await asyncio.to_thread(self.driver.switch_to.new_window, "tab")
        self.handle = self.driver.current_window_handle
        await self.call(self.driver.get, f"{self.api.url}/chat/")
        await self.js("localStorage.setItem('chatgql.token', arguments[0])", self.api.token(user))
        await self.reload()
        return self

    async def reload(self) -> None:
        await self.call(self.driver.refresh)
        await self.until("return document.querySelector('#connection').textContent", "online")

    async def until(self, script: str, expected: Any = True, timeout: float = 20) -> Any:
        """Poll a script until it returns `expected` (or anything truthy for True)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.js(script)
            if (value if expected is True else value == expected) or (
                asyncio.get_running_loop().time() > deadline
            ):
                assert value if expected is True else value == expected, (script, value)
                return value
            await asyncio.sleep(0.05)

    async def click(self, selector: str) -> None:
        await self.js("document.querySelector(arguments[0]).click()", selector)

    async def new_conversation(self) -> str:
        await self.click("#new-conversation")
        conversation_id: str = await self.until(
            "return new URLSearchParams(location.hash.slice(1)).get('c')"
        )
        return conversation_id

    async def send(self, text: str) -> str:
        """Type and send; the id of the answer's message."""
        ids = f"return [...document.querySelectorAll('{ASSISTANT}')].map(m => m.dataset.messageId)"
        before = set(await self.js(ids))
        await self.js("document.querySelector('#prompt').value = arguments[0]", text)
        await self.click("#send")
        deadline = asyncio.get_running_loop().time() + 20
        while not (new := set(await self.js(ids)) - before):
            assert asyncio.get_running_loop().time() < deadline, "no answer appeared"
            await asyncio.sleep(0.05)
        (answer_id,) = new
        answer: str = answer_id
        return answer

    async def answer(self, message_id: str) -> tuple[str, str]:
        """(text, status) of an answer as the page shows it."""
        text, status = await self.js(
            "const m = document.querySelector(`.message[data-message-id='${arguments[0]}']`);"
            "return m ? [m.querySelector('.text').textContent, m.dataset.status] : [null, null]",
            message_id,
        )
        return text, status

    async def until_answer(self, message_id: str, status: str, timeout: float = 30) -> str:
        await self.until(
            f"return document.querySelector(`.message[data-message-id='{message_id}']`)"
            f"?.dataset.status",
            status,
            timeout,
        )
        return (await self.answer(message_id))[0]

    async def stored(self, message_id: str) -> dict[str, Any]:
        message: dict[str, Any] = (await self.api.gql(MESSAGE, {"id": message_id}))["message"]
        return message
