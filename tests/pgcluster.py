"""Throwaway PostgreSQL clusters for tests, CI and benchmarks (standard library only).

``initdb`` refuses to run as root: as root, every server command runs as the ``postgres`` user
(``runuser -u postgres --``) on a data directory owned by it (mode 0700); as any other user
they run as that user. The cluster listens on a free loopback port, keeps its Unix socket in
its own temporary directory, runs with ``fsync`` on, and trusts local connections (it is
reachable from this machine only, and lives as long as the tests).

    python3 -m tests.pgcluster start [--dir DIR]   # prints export lines for the shell
    python3 -m tests.pgcluster stop DIR

``start`` prints ``GATEWAY_TEST_POSTGRES_URL=…`` and ``GATEWAY_TEST_POSTGRES_DIR=…`` lines
(for ``eval``); ``stop`` stops the cluster and removes the directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian puts each major version's server binaries.
BIN_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
SUPERUSER = "postgres"
#: Enough for three replicas of four workers with their pools, and the tests' own connections.
MAX_CONNECTIONS = 300


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def server_bin() -> Path:
    """The newest installed server's ``bin`` directory (``GATEWAY_TEST_POSTGRES_BIN``
    overrides); raises ClusterUnavailable when there is none."""
    override = os.environ.get("GATEWAY_TEST_POSTGRES_BIN")
    if override:
        candidates = [Path(override)]
    else:
        versions = sorted((p for p in BIN_ROOT.glob("*/bin") if p.parent.name.isdigit()),
                          key=lambda p: int(p.parent.name), reverse=True)
        candidates = versions
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise ClusterUnavailable(f"no PostgreSQL server binaries (initdb, pg_ctl) under {BIN_ROOT}"
                             " (apt-get install postgresql, or set GATEWAY_TEST_POSTGRES_URL)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """One running (or stopped) throwaway cluster."""

    directory: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 120.0) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                check=False, cwd="/")
        if result.returncode != 0:
            raise ClusterUnavailable(f"{' '.join(argv[:2])} failed ({result.returncode}): "
                                     f"{result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = " ".join([
            f"-p {self.port}", "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.directory}", "-c fsync=on",
            f"-c max_connections={MAX_CONNECTIONS}", "-c shared_buffers=64MB"])
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions and disconnect clients;
        ``immediate``: like a crash, recovery on the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server if it runs, then remove its directory."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterUnavailable, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def create_cluster(directory: Path | None = None) -> Cluster:
    """initdb a new cluster in a fresh temporary directory (or ``directory``) and start it.

    Raises ClusterUnavailable when the binaries are missing or the server cannot start.
    """
    binaries = server_bin()
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="gateway-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(root, free_port(), binaries)
    try:
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ClusterUnavailable(f"running as root and there is no {SERVER_USER!r} "
                                         "user to run the server as") from None
            os.chown(root, owner.pw_uid, owner.pw_gid)
        os.chmod(root, 0o700)
        cluster._run("initdb", "-D", str(cluster.data), "-U", SUPERUSER, "-A", "trust",
                     "-E", "UTF8", "--locale=C", "--no-instructions")
        cluster.start()
    except BaseException:
        cluster.destroy()
        raise
    return cluster


def _wait_gone(directory: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (directory / "data" / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="create and start a cluster; print export lines")
    start.add_argument("--dir", default=None, help="directory to create it in (default: a "
                                                  "new temporary directory)")
    stop = sub.add_parser("stop", help="stop a cluster and remove its directory")
    stop.add_argument("dir")
    args = parser.parse_args(argv)
    if args.command == "start":
        try:
            cluster = create_cluster(Path(args.dir) if args.dir else None)
        except ClusterUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"export GATEWAY_TEST_POSTGRES_URL={cluster.url()}")
        print(f"export GATEWAY_TEST_POSTGRES_DIR={cluster.directory}")
        return 0
    directory = Path(args.dir)
    port_file = directory / "data" / "postmaster.pid"
    if port_file.exists():
        lines = port_file.read_text().splitlines()
        Cluster(directory, int(lines[3]) if len(lines) > 3 else 0, server_bin()).destroy()
        _wait_gone(directory)
    shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
