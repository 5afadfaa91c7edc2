"""A real, throwaway PostgreSQL server for the test suite.

``PostgresServer.start()`` runs ``initdb`` and ``pg_ctl`` from the server binaries
(``$SUPPORTBOT_PG_BIN``, else the newest ``/usr/lib/postgresql/<version>/bin``, else the
folder of ``initdb`` on PATH) on a temporary data dir and a free port on 127.0.0.1, with
trust authentication and durability switched off (it is thrown away). When the tests run as
root, the server runs as the ``postgres`` OS user, since ``initdb`` refuses root.

Missing binaries are an error, never a skip: ``scripts/ensure-postgres.sh`` installs them.
The fixtures in ``tests/conftest.py`` start one server per session, on first use, and give
each test its own fresh database.
"""

from __future__ import annotations

import itertools
import json
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN_ENV = "SUPPORTBOT_PG_BIN"
SERVER_USER = "postgres"
START_TIMEOUT_SECONDS = 60


# Waits for the test process to end, then stops the server and removes its folder.
_WATCHDOG = """
import json, os, shutil, subprocess, sys, time
parent, stop = int(sys.argv[1]), json.loads(sys.argv[2])
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
subprocess.run(stop, capture_output=True, check=False, timeout=60)
shutil.rmtree(os.path.dirname(stop[stop.index("--pgdata") + 1]), ignore_errors=True)
"""


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


def find_pg_bin() -> Path:
    configured = os.environ.get(PG_BIN_ENV)
    if configured:
        candidates = [Path(configured)]
    else:
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        on_path = shutil.which("initdb")
        candidates = [*versions, *([Path(on_path).parent] if on_path else [])]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found "
        f"(looked in {', '.join(map(str, candidates)) or '/usr/lib/postgresql/*/bin and PATH'}). "
        "The store tests need a real PostgreSQL server: run scripts/ensure-postgres.sh "
        f"(installs Debian's postgresql package), or set {PG_BIN_ENV} to the folder holding "
        "initdb and pg_ctl."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One running server; ``url(db)`` gives plain ``postgresql://`` URLs to its databases."""

    def __init__(self, bin_dir: Path, base_dir: Path, port: int, run_as: str | None) -> None:
        self.bin_dir = bin_dir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.port = port
        self._run_as = run_as
        self._names = itertools.count(1)
        self._watchdog: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_pg_bin()
        run_as = SERVER_USER if os.geteuid() == 0 else None
        base_dir = Path(tempfile.mkdtemp(prefix="supportbot-pg-"))
        if run_as is not None:
            try:
                account = pwd.getpwnam(run_as)
            except KeyError as exc:
                shutil.rmtree(base_dir, ignore_errors=True)
                raise PostgresUnavailable(
                    f"the tests run as root and initdb refuses root, but there is no "
                    f"{run_as!r} OS user to run the server as"
                ) from exc
            os.chown(base_dir, account.pw_uid, account.pw_gid)
        server = cls(bin_dir, base_dir, _free_port(), run_as)
        try:
            server._initdb()
            server._pg_ctl_start()
            server._start_watchdog()
        except BaseException:
            server.stop()
            raise
        return server

    def _as_server_user(self, args: Sequence[str]) -> list[str]:
        if self._run_as is None:
            return list(args)
        if shutil.which("runuser"):
            return ["runuser", "-u", self._run_as, "--", *args]
        return ["su", self._run_as, "-s", "/bin/sh", "-c", shlex.join(args)]

    def _run(self, args: Sequence[str]) -> None:
        command = self._as_server_user(args)
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=START_TIMEOUT_SECONDS,
            cwd=self.base_dir,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def _initdb(self) -> None:
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                SERVER_USER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        )

    def _pg_ctl_start(self) -> None:
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.base_dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "start",
                "--pgdata",
                str(self.data_dir),
                "--wait",
                "--timeout",
                str(START_TIMEOUT_SECONDS),
                "--log",
                str(self.base_dir / "server.log"),
                "-o",
                options,
            ]
        )

    def _start_watchdog(self) -> None:
        """Stop the server even when the test process is killed (no teardown runs then)."""
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), json.dumps(self._stop_command())],
            start_new_session=True,  # survives a kill of the test run's process group
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _stop_command(self) -> list[str]:
        command = [
            str(self.bin_dir / "pg_ctl"),
            "stop",
            "--pgdata",
            str(self.data_dir),
            "--mode",
            "immediate",
            "--wait",
        ]
        return self._as_server_user(command)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "test") -> str:
        """A new, empty database; returns its plain ``postgresql://`` URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(self._stop_command(), capture_output=True, check=False, timeout=60)
        if self._watchdog is not None:
            self._watchdog.terminate()
            self._watchdog.wait()
        shutil.rmtree(self.base_dir, ignore_errors=True)
