"""The container topology, checked without containers.

compose.yaml is validated by `docker-compose config`; deploy/nginx.conf by `nginx -t`; and the
same topology runs on loopback: two `chatgql serve` processes on one PostgreSQL and one Redis,
behind a real nginx using the config's upstream and proxy settings, with only the replicas'
addresses and the listening port replaced. The Dockerfile's health check runs against a node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import REPO, Node, remotes, run_nodes
from tests.servers import PostgresServer, RedisServer, free_port, spawn, tail
from tests.streaming import EVENTS

pytestmark = pytest.mark.slow

COMPOSE = REPO / "compose.yaml"
NGINX_SITE = REPO / "deploy" / "nginx.conf"
DOCKERFILE = REPO / "Dockerfile"
UPSTREAM_SERVER = re.compile(r"^(\s*server )([\w.-]+):8000\b", re.M)
SECRETS = {"POSTGRES_PASSWORD": "compose-check", "CHATGQL_JWT_SECRET": "z" * 40}
START_TIMEOUT = 20.0


def required(command: str) -> str:
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        message = f"{command} not installed (.ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true: this test must run", pytrace=False)
        pytest.skip(message)
    return found


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [required("docker-compose"), "-f", str(COMPOSE), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_and_wants_its_secrets() -> None:
    checked = compose("config", "--quiet", env=SECRETS)
    assert checked.returncode == 0, checked.stderr
    services = set(compose("config", "--services", env=SECRETS).stdout.split())
    assert services == {"postgres", "redis", "migrate", "chatgql-1", "chatgql-2", "nginx"}
    # nginx balances over exactly the chatgql replicas compose runs
    upstream = {host for _, host in UPSTREAM_SERVER.findall(NGINX_SITE.read_text())}
    assert upstream == {"chatgql-1", "chatgql-2"}
    for missing in SECRETS:
        refused = compose(
            "config", "--quiet", env={k: v for k, v in SECRETS.items() if k != missing}
        )
        assert refused.returncode != 0
        assert missing in refused.stderr


# ---------------------------------------------------------------- nginx on loopback


def site_config(servers: list[str], port: int) -> str:
    """deploy/nginx.conf with the replicas' addresses and the port replaced, nothing else."""
    text = NGINX_SITE.read_text()
    hosts = iter(servers)
    text, count = UPSTREAM_SERVER.subn(lambda m: f"{m.group(1)}{next(hosts)}", text)
    assert count == len(servers)
    text, count = re.subn(r"^(\s*)listen 8080;", rf"\1listen 127.0.0.1:{port};", text, flags=re.M)
    assert count == 1
    return text


def main_config(directory: Path, site: Path) -> Path:
    """What the nginx image has around a conf.d file, in a folder of our own."""
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    user = "user root root;" if os.geteuid() == 0 else ""  # workers as nobody could not write
    config = directory / "nginx-main.conf"
    config.write_text(
        f"""{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
    log_format ids '$chatgql_request_id $status';
    access_log {directory}/access.log ids;
}}
"""
    )
    return config


def nginx_args(directory: Path, config: Path) -> list[str]:
    return [required("nginx"), "-p", str(directory), "-e", str(directory / "error.log")] + [
        "-c",
        str(config),
    ]


def test_nginx_config_is_valid(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(site_config(["127.0.0.1:1", "127.0.0.1:2"], free_port()))
    config = main_config(tmp_path, site)
    checked = subprocess.run(
        [*nginx_args(tmp_path, config), "-t"], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@dataclass
class Proxied:
    nginx: Node  # only its address: the nginx in front
    replicas: list[Node]


@pytest.fixture(scope="module")
def proxied(
    postgres_server: PostgresServer,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Proxied]:
    directory = tmp_path_factory.mktemp("proxied")
    with run_nodes(
        2,
        database_url=postgres_server.create_database(),
        broker_url=redis_server.url,
        directory=directory,
    ) as nodes:
        port = free_port()
        site = directory / "site.conf"
        site.write_text(site_config([f"127.0.0.1:{node.port}" for node in nodes], port))
        args = [*nginx_args(directory, main_config(directory, site)), "-g", "daemon off;"]
        log = directory / "nginx.out"
        proc = spawn(args, log)
        try:
            wait_listening(port, proc, log)
            yield Proxied(Node("nginx", {}, directory, port=port), nodes)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{tail(log)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nginx not answering after {START_TIMEOUT}s:\n{tail(log)}")


def graphql_requests(node: Node) -> float:
    text = httpx.get(f"{node.url}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "chatgql_http_requests_total" and sample.labels["route"] == "/graphql"
    )


async def test_queries_and_live_answers_through_nginx(proxied: Proxied) -> None:
    before = [graphql_requests(node) for node in proxied.replicas]
    async with remotes(proxied.nginx) as (remote,):
        created = await remote.gql('mutation { createConversation(input: {title: "lb"}) { id } }')
        conversation = created["createConversation"]["id"]
        for _ in range(4):  # round robin: each replica answers some
            await remote.gql("query($c: ID!) { conversation(id: $c) { id } }", {"c": conversation})
        sent = await remote.gql(
            """mutation($c: ID!) { sendMessage(input: {conversationId: $c, content: "hi"}) {
                 assistantMessage { id } stream { id } } }""",
            {"c": conversation},
        )
        stream_id = sent["sendMessage"]["stream"]["id"]
        # two websockets through nginx's upgrade (to either replica): each sees it all
        first = await remote.subscribe_all(EVENTS, {"s": stream_id, "m": None, "o": 0})
        second = await remote.subscribe_all(EVENTS, {"s": stream_id, "m": None, "o": 0})
        message = await remote.gql(
            "query($m: ID!) { message(id: $m) { content status } }",
            {"m": sent["sendMessage"]["assistantMessage"]["id"]},
        )
        for events in (first, second):
            items = [e["streamEvents"] for e in events]
            assert items[0]["__typename"] == "StreamSnapshot"
            text = items[0]["text"] + "".join(
                i["text"] for i in items if i["__typename"] == "StreamDelta"
            )
            assert text == message["message"]["content"] and text
            assert items[-1]["__typename"] == "StreamEnd" and items[-1]["status"] == "COMPLETED"

        # the request id: the client's, else nginx's own; chatgql echoes what nginx passed
        given = await remote.http.post(
            f"{proxied.nginx.url}/graphql",
            json={"query": "{ __typename }"},
            headers={"X-Request-ID": "through-nginx-1"},
        )
        assert given.headers["x-request-id"] == "through-nginx-1"
        made = await remote.http.post(
            f"{proxied.nginx.url}/graphql", json={"query": "{ __typename }"}
        )
        made_id = made.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made_id)
        # the id nginx made is the one chatgql logs and echoes
        access = (proxied.nginx.directory / "access.log").read_text().split("\n")
        assert f"{made_id} 200" in access
    after = [graphql_requests(node) for node in proxied.replicas]
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_the_image_health_check_probes_health(proxied: Proxied) -> None:
    instruction = next(
        line
        for line in DOCKERFILE.read_text().splitlines()
        if line.strip().startswith('CMD ["python"')
    )
    command = json.loads(instruction.strip()[len("CMD ") :])
    assert command[0] == "python"
    node = proxied.replicas[0]
    ok = subprocess.run(
        [sys.executable, *command[1:]],
        env={**os.environ, "CHATGQL_PORT": str(node.port)},
        capture_output=True,
        timeout=30,
    )
    assert ok.returncode == 0, ok.stderr
    down = subprocess.run(
        [sys.executable, *command[1:]],
        env={**os.environ, "CHATGQL_PORT": str(free_port())},
        capture_output=True,
        timeout=30,
    )
    assert down.returncode != 0
