"""A real MCP server made with the SDK's FastMCP, for the tests: run over stdio or Streamable HTTP.

    python -m tests.mcp_server stdio [--many]
    python -m tests.mcp_server http [--many]   # prints its port on the first line

Tools: `echo` answers, `slow` sleeps (stop or time out mid-call), `fail` raises, `picture`
returns a PNG, `die` ends the process mid-call, `big` returns a long text, `add` returns
structured content, `auth_header` says which Authorization header came. `--many` lists
200 more tools.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys

import uvicorn
from mcp.server.fastmcp import Context, FastMCP, Image

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def build(many: bool) -> FastMCP:
    server = FastMCP("chatgql-test")

    @server.tool(description="Says the text back.")
    def echo(text: str) -> str:
        return f"echo: {text}"

    @server.tool(description="Sleeps, then answers.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @server.tool(description="Always fails.")
    def fail() -> str:
        raise ValueError("this tool always fails")

    @server.tool(description="A small picture.")
    def picture() -> Image:
        return Image(data=PNG, format="png")

    @server.tool(description="Ends the server mid-call.")
    def die() -> str:
        os._exit(3)

    @server.tool(description="A long text.")
    def big(chars: int) -> str:
        return "x" * chars

    @server.tool(description="Adds two numbers.")
    def add(a: int, b: int) -> dict[str, int]:
        return {"sum": a + b}

    @server.tool(description="The Authorization header it was called with (HTTP).")
    def auth_header(ctx: Context) -> str:  # type: ignore[type-arg]
        request = ctx.request_context.request
        return str(request.headers.get("authorization", "")) if request is not None else ""

    if many:
        for index in range(200):

            def numbered(n: int = index) -> str:
                return f"tool {n}"

            server.add_tool(numbered, name=f"t{index:03d}", description=f"Tool number {index}.")
    return server


async def serve_http(server: FastMCP) -> None:
    config = uvicorn.Config(
        server.streamable_http_app(), host="127.0.0.1", port=0, log_level="warning"
    )
    http = uvicorn.Server(config)
    task = asyncio.create_task(http.serve())
    while not http.started:
        await asyncio.sleep(0.01)
    print(http.servers[0].sockets[0].getsockname()[1], flush=True)
    await task


def main() -> None:
    server = build("--many" in sys.argv)
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        asyncio.run(serve_http(server))


if __name__ == "__main__":
    main()
