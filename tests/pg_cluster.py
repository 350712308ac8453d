"""A PostgreSQL primary with a streaming hot standby, started for a test in a folder of its own
(the replica test). The machine's PostgreSQL binaries do it: ``initdb`` the primary,
``pg_basebackup --write-recovery-conf`` the standby from it, each on a free loopback port.

PostgreSQL refuses to run as root, so as root (CI) every command runs as the ``postgres``
account, which owns the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def pg_bin() -> Path | None:
    """The folder of the server binaries (``PG_BIN``, else the newest Debian install)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts)
    return versions[-1].parent if versions else None


@dataclass(frozen=True)
class Pair:
    primary_port: int
    replica_port: int

    def url(self, port: int, name: str = "liwan") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)


INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--no-locale")
STANDBY = ("--write-recovery-conf", "-X", "stream")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_postgres(command), capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"{command[0]} failed:\n{done.stdout}{done.stderr}")


@contextlib.contextmanager
def streaming_pair(folder: Path) -> Iterator[Pair]:
    bin_dir = pg_bin()
    assert bin_dir is not None, "no PostgreSQL server binaries (set PG_BIN)"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    folder.chmod(0o700)
    primary, replica = folder / "primary", folder / "replica"
    pair = Pair(_free_port(), _free_port())

    def start(data: Path, port: int) -> None:
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / f"{data.name}.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )

    started: list[Path] = []
    try:
        _run([str(bin_dir / "initdb"), "-D", str(primary), "-U", "postgres", *INITDB_OPTIONS])
        start(primary, pair.primary_port)
        started.append(primary)
        primary_address = ["-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres"]
        # --write-recovery-conf: the standby's primary_conninfo and standby.signal.
        _run([str(bin_dir / "pg_basebackup"), *primary_address, "-D", str(replica), *STANDBY])
        start(replica, pair.replica_port)
        started.append(replica)
        _run([str(bin_dir / "createdb"), *primary_address, "liwan"])
        yield pair
    finally:
        for data in reversed(started):
            with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


def stop(folder: Path, name: str) -> None:
    """Stop one server of the pair (``primary`` or ``replica``) at once."""
    bin_dir = pg_bin()
    assert bin_dir is not None
    _run([str(bin_dir / "pg_ctl"), "-D", str(folder / name), "-m", "immediate", "stop"])
