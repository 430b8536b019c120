"""Real PostgreSQL and Redis servers for tests: loopback only, temporary folders, bounded waits.

`start_postgres` / `start_redis` work anywhere; the session fixtures `postgres_server` and
`redis_server` skip when the binaries are missing, and fail instead when CI=true.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    # Linux only, best effort: a test run killed with SIGKILL still takes its servers down.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(
    args: list[str],
    log_path: Path,
    *,
    user: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a helper process (a server, a node, a bench client) that dies with us."""
    # The death signal follows the *thread* that forks: only tie it to the main thread.
    on_main = threading.current_thread() is threading.main_thread()
    # Output goes to a file, not a pipe: nothing to drain, nothing left open in this process.
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            user=user,
            env=env,
            cwd=cwd,
            preexec_fn=die_with_parent if on_main else None,
        )


def reap(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT)


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class ServerError(RuntimeError):
    pass


# ---------------------------------------------------------------- redis


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer:
    """A redis-server on 127.0.0.1; `stop()` kills it (a crash), `start()` brings it back."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.proc is not None:
            raise ServerError("redis-server is already running")
        binary = redis_binary()
        if binary is None:
            raise ServerError("redis-server not found")
        log = self.directory / "redis.log"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"]
        self.proc = spawn(args, log)
        deadline = time.monotonic() + START_TIMEOUT
        # Ask for the pid: a plain PING could be answered by another server that holds the port.
        while self._pid() != self.proc.pid:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"redis-server did not start on {self.port}:\n{tail(log)}")
            time.sleep(0.02)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            reap(proc, signal.SIGKILL)

    def ping(self) -> bool:
        return self._ask(b"PING").startswith(b"+PONG")

    def _pid(self) -> int | None:
        found = re.search(rb"process_id:(\d+)\r\n", self._ask(b"INFO server", b"process_id:"))
        return int(found[1]) if found else None

    def _ask(self, command: bytes, until: bytes = b"") -> bytes:
        """One inline command over a raw socket; b"" if nothing answers."""
        data = b""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(command + b"\r\n")
                while not data.endswith(b"\r\n") or until not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return b""
        return data


def start_redis(tmp_dir: Path, port: int | None = None) -> RedisServer:
    """Start redis-server in `tmp_dir` (on `port`, or on a free one, retried if it gets taken)."""
    for attempt in range(3):
        server = RedisServer(Path(tmp_dir), port)
        try:
            server.start()
            return server
        except ServerError:
            if port is not None or attempt == 2:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- postgres


def postgres_bin_dir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A PostgreSQL cluster on 127.0.0.1 with trust auth and fsync off (test data only)."""

    def __init__(self, bin_dir: Path, directory: Path, user: str | None, owns_dir: bool) -> None:
        self.bin_dir = bin_dir
        self.directory = directory
        self.user = user  # the OS user the server runs as: postgres refuses root
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._owns_dir = owns_dir

    @property
    def url(self) -> str:
        return self.url_for("chatgql_test")

    def url_for(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self) -> None:
        args = [str(self.bin_dir / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres"]
        args += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        log = self.directory / "initdb.log"
        with open(log, "ab") as out:
            done = subprocess.run(
                args, stdout=out, stderr=subprocess.STDOUT, user=self.user, timeout=120, check=False
            )
        if done.returncode != 0:
            raise ServerError(f"initdb failed:\n{tail(log)}")

    def start(self) -> None:
        """Start on a free port (another one if it was taken meanwhile) and wait until ready."""
        log = self.directory / "postgres.log"
        for attempt in range(3):
            self.port = free_port()
            args = [str(self.bin_dir / "postgres"), "-D", str(self.directory / "data")]
            args += ["-h", "127.0.0.1", "-p", str(self.port), "-k", str(self.directory)]
            for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
                args += ["-c", setting]
            self.proc = spawn(args, log, user=self.user)
            deadline = time.monotonic() + START_TIMEOUT
            while self.proc.poll() is None and time.monotonic() < deadline:
                if self._ready():
                    return
                time.sleep(0.05)
            self.stop_process()
            if attempt == 2:
                raise ServerError(f"postgres did not start:\n{tail(log)}")

    def _ready(self) -> bool:
        # postmaster.pid line 1 is the pid, line 8 the status: ours and "ready", not just anyone's
        try:
            lines = (self.directory / "data" / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        assert self.proc is not None
        return len(lines) >= 8 and lines[0] == str(self.proc.pid) and lines[7].strip() == "ready"

    def psql(self, sql: str, database: str = "postgres") -> None:
        args = [str(self.bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
        args += ["-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql]
        done = subprocess.run(args, capture_output=True, timeout=30, check=False)
        if done.returncode != 0:
            raise ServerError(f"psql failed: {done.stderr.decode(errors='replace')}")

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a fresh database (a random name unless given), a copy of `template` if given,
        and return its URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        self.psql(f'CREATE DATABASE "{name}"{copy}')
        return self.url_for(name)

    def stop_process(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            reap(proc, signal.SIGINT)  # "fast" shutdown: does not wait for clients to leave

    def stop(self) -> None:
        self.stop_process()
        if self._owns_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres(tmp_dir: Path) -> PostgresServer:
    """initdb and start a server in a temporary folder, with a `chatgql_test` database."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerError("PostgreSQL binaries (initdb, postgres) not found")
    if os.geteuid() == 0:
        # postgres refuses root, and its own user cannot enter pytest's 0700 tmp folders
        entry = pwd.getpwnam("postgres")
        directory = Path(tempfile.mkdtemp(prefix="chatgql-pg-"))
        os.chown(directory, entry.pw_uid, entry.pw_gid)
        server = PostgresServer(bin_dir, directory, "postgres", owns_dir=True)
    else:
        directory = Path(tmp_dir) / "postgres"
        directory.mkdir(mode=0o700)
        server = PostgresServer(bin_dir, directory, None, owns_dir=False)
    try:
        server.initdb()
        server.start()
        server.create_database("chatgql_test")
    except BaseException:
        server.stop()
        raise
    return server


# ---------------------------------------------------------------- fixtures


def _unavailable(what: str) -> None:
    message = f"{what} not available"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: these tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if redis_binary() is None:
        _unavailable("redis-server")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    if postgres_bin_dir() is None:
        _unavailable("PostgreSQL (initdb, postgres)")
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A local S3-compatible server (moto), for the S3 storage backend."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        # stop() shuts the loop down but leaves the listening socket open (ResourceWarning).
        assert server._server is not None
        server._server.server_close()
