"""Upload refusals (size, type, magic bytes, quota, names), each with its own code and nothing
left behind, on both transports; the size cut-off while streaming; CSRF on form posts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.attachment_support import (
    EXE,
    PDF,
    Counted,
    assert_nothing_stored,
    attachment_rows,
    auth,
    gql_code,
    gql_upload,
    http_upload,
    operations,
    png,
    stored_keys,
    streamed_multipart,
    temp_files,
    uploaded,
)
from tests.conftest import make_settings
from tests.support import ApiServer, start_api

KIB = 1024
MAX_UPLOAD = 64 * KIB
QUOTA = 160 * KIB
Upload = Callable[..., Awaitable[tuple[str | None, dict[str, Any]]]]


@pytest.fixture
async def limited(tmp_path: Path, database_url: str) -> AsyncIterator[ApiServer]:
    settings = make_settings(
        tmp_path, database_url, max_upload_bytes=MAX_UPLOAD, user_quota_bytes=QUOTA
    )
    async with start_api(settings) as server:
        yield server


async def via_graphql(
    api: ApiServer, data: bytes, name: str, media_type: str
) -> tuple[str | None, dict[str, Any]]:
    """(error code or None, the attachment or the error)."""
    response = await gql_upload(api, data, name, media_type)
    assert response.status_code == 200, response.text
    body = response.json()
    if body.get("errors"):
        return gql_code(response), body["errors"][0]
    return None, body["data"]["uploadAttachment"]


async def via_http(
    api: ApiServer, data: bytes, name: str, media_type: str
) -> tuple[str | None, dict[str, Any]]:
    response = await http_upload(api, data, name, media_type)
    body = response.json()
    if response.status_code != 201:
        assert response.status_code in (400, 404, 413, 415), response.text
        return gql_code(response), body["errors"][0]
    return None, body


TRANSPORTS = pytest.mark.parametrize("upload", [via_graphql, via_http], ids=["graphql", "http"])
BIG_PNG = png() + b"\x00" * (MAX_UPLOAD + 1 - len(png()))
REFUSALS = {
    "too large": (BIG_PNG, "big.png", "image/png", "PAYLOAD_TOO_LARGE"),
    "type not allowed": (EXE, "setup.exe", "application/x-msdownload", "UNSUPPORTED_MEDIA_TYPE"),
    "unknown content": (EXE, "setup.bin", "application/octet-stream", "UNSUPPORTED_MEDIA_TYPE"),
    "magic bytes differ": (PDF, "photo.png", "image/png", "UNSUPPORTED_MEDIA_TYPE"),
    "empty": (b"", "empty.txt", "text/plain", "BAD_USER_INPUT"),
}


@TRANSPORTS
@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refusals_leave_nothing(limited: ApiServer, upload: Upload, case: str) -> None:
    data, name, media_type, code = REFUSALS[case]
    found, error = await upload(limited, data, name, media_type)
    assert found == code, error
    if case == "magic bytes differ":
        assert error["extensions"]["detected_type"] == "application/pdf"
    await assert_nothing_stored(limited)


@TRANSPORTS
async def test_quota(limited: ApiServer, upload: Upload) -> None:
    part = png() + b"\x00" * (60 * KIB - len(png()))
    assert (await upload(limited, part, "1.png", "image/png"))[0] is None
    first = await upload(limited, part, "2.png", "image/png")
    assert first[0] is None
    code, error = await upload(limited, part, "3.png", "image/png")
    assert code == "QUOTA_EXCEEDED"
    assert error["extensions"]["remaining_bytes"] == QUOTA - 2 * len(part)
    assert await attachment_rows(limited) == 2 and len(await stored_keys(limited)) == 2
    assert temp_files(limited) == []
    await limited.gql(
        "mutation($id: ID!) { deleteAttachment(id: $id) { id } }", {"id": first[1]["id"]}
    )
    assert (await upload(limited, part, "3.png", "image/png"))[0] is None


@TRANSPORTS
async def test_filenames_are_sanitized(limited: ApiServer, upload: Upload, tmp_path: Path) -> None:
    names = {
        "../../../../etc/evil.txt": "evil.txt",
        "..\\..\\windows\\system.ini.txt": "system.ini.txt",
        "..": "file",
        "re\u202eport.txt": "report.txt",  # a bidi override can disguise the extension
        "a<b>:c|?*.md": "a_b__c___.md",
    }
    if upload is via_http:
        # Percent-encoded in X-Filename; a multipart client escapes control characters itself.
        names["bell\x07\x00\nname.txt"] = "bellname.txt"
    for given, expected in names.items():
        code, att = await upload(limited, b"hello\n", given, "text/plain")
        assert code is None, att
        assert att["name"] == expected
    keys = await stored_keys(limited)
    assert len(keys) == len(names)
    assert all(".." not in key and "\\" not in key for key in keys)
    assert not (tmp_path / "etc").exists() and not (tmp_path / "var" / "etc").exists()


async def post_until_refused(
    api: ApiServer, path: str, body: AsyncIterator[bytes], headers: dict[str, str]
) -> httpx.Response | None:
    """The server may answer 413 and close before it has the whole body: the client then gets
    the response, or only a reset connection."""
    try:
        return await api.http.post(path, content=body, headers=headers)
    except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
        return None


async def test_http_refuses_a_declared_length_over_the_limit_before_reading(
    limited: ApiServer,
) -> None:
    body = Counted(total=64 * 1024 * KIB, first=png())
    headers = {**auth(limited), "Content-Type": "image/png", "Content-Length": str(body.total)}
    response = await post_until_refused(limited, "/uploads", aiter(body), headers)
    if response is not None:
        assert response.status_code == 413
        assert gql_code(response) == "PAYLOAD_TOO_LARGE"
    assert body.sent < body.total // 4  # socket buffers at most; the server read none of it
    await assert_nothing_stored(limited)


@pytest.mark.parametrize("transport", ["graphql", "http"])
async def test_streamed_upload_is_cut_off_at_the_limit(limited: ApiServer, transport: str) -> None:
    """No Content-Length (chunked): the server stops reading once past the limit."""
    body = Counted(total=64 * 1024 * KIB, first=png())
    if transport == "graphql":
        content_type, stream = streamed_multipart(aiter(body), "big.png", "image/png")
        headers = {**auth(limited), "Content-Type": content_type}
        response = await post_until_refused(limited, "/graphql", stream, headers)
    else:
        headers = {**auth(limited), "Content-Type": "image/png", "X-Filename": "big.png"}
        response = await post_until_refused(limited, "/uploads", aiter(body), headers)
    if response is not None:
        assert response.status_code == 413
        assert gql_code(response) == "PAYLOAD_TOO_LARGE"
    assert body.sent < body.total // 4
    await assert_nothing_stored(limited)
    # The server is fine afterwards.
    assert (await uploaded(limited, png(), "ok.png", "image/png"))["size"] == len(png())


async def test_cross_site_form_posts_cannot_upload(api: ApiServer) -> None:
    """What a page on another origin can send without a preflight: a form, no Authorization."""
    cross_site = {"Origin": "https://evil.example", "Cookie": "session=stolen", "Referer": ""}
    form = {"operations": operations(), "map": json.dumps({"0": ["variables.file"]})}
    refused = [
        await api.http.post(
            "/graphql", data=form, files={"0": ("x.png", png(), "image/png")}, headers=cross_site
        ),
        await api.http.post("/graphql", data=form, headers=cross_site),  # urlencoded
        await api.http.post(
            "/graphql",
            content=json.dumps({"query": "mutation { createConversation { id } }"}),
            headers={**cross_site, "Content-Type": "text/plain"},
        ),
        await api.http.post(
            "/graphql",
            data=form,
            files={"0": ("x.png", png(), "image/png")},
            headers={**cross_site, "Authorization": "Bearer not-a-token"},
        ),
        await http_upload(api, b"hello", "x.txt", "text/plain", user=None, headers=cross_site),
        await http_upload(api, png(), "x.png", "multipart/form-data; boundary=x", user=None),
    ]
    for response in refused:
        assert response.status_code == 401, response.text
        assert gql_code(response) == "UNAUTHENTICATED"

    # Even with a token, the raw upload endpoint takes no forms, and GraphQL no text/plain.
    with_token = [
        await http_upload(api, png(), "x.png", "multipart/form-data; boundary=x"),
        await http_upload(api, b"a=b", "x.txt", "application/x-www-form-urlencoded"),
        await http_upload(api, png(), "x.png", None),
    ]
    for response in with_token:
        assert response.status_code == 415, response.text
        assert gql_code(response) == "UNSUPPORTED_MEDIA_TYPE"
    plain = await api.http.post(
        "/graphql",
        content=json.dumps({"query": "mutation { createConversation { id } }"}),
        headers={**auth(api), "Content-Type": "text/plain"},
    )
    assert plain.status_code == 400
    conversations = await api.gql("{ conversations { edges { node { id } } } }")
    assert conversations["conversations"]["edges"] == []
    await assert_nothing_stored(api)

    # No CORS grant: a browser would not send the Authorization header cross-site at all.
    preflight = await api.http.options(
        "/graphql",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_upload_variables_must_be_files(api: ApiServer) -> None:
    """`Upload` takes any JSON value as a variable; only a multipart file part is accepted."""
    query = "mutation($f: Upload!) { uploadAttachment(file: $f) { id } }"
    response = await api.raw(query, {"f": "aGVsbG8="})
    assert response["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # A file the operation does not use (here 2 MiB, spooled to disk) is closed all the same.
    unused = await api.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": "{ me { id } }", "variables": {"file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("big.png", png() + b"\x00" * (2 * 1024 * KIB), "image/png")},
        headers=auth(api),
    )
    assert unused.status_code == 200 and "errors" not in unused.json(), unused.text
    await assert_nothing_stored(api)
