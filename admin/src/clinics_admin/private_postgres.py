"""A PostgreSQL server of the dev runner's own: the machine's `initdb` and `pg_ctl`, its data under `.run/`.

Trust authentication, listening on the URL's loopback host and port only, no Unix socket (whose directory,
/run/postgresql, belongs to the machine's own server). PostgreSQL refuses to run as root: as root, the server
runs as the `postgres` user, who then owns the directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from clinics_admin.endpoints import CannotStart, Endpoint
from msgkit.db import sync_url

# Where Debian's packages put each major version's server programs (none of them on PATH).
DEBIAN_VERSIONS = Path("/usr/lib/postgresql")
START_TIMEOUT = 60


def postgres_bin() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: DEV_POSTGRES_BIN, else pg_ctl's on PATH, else the
    newest Debian version's; None where PostgreSQL's server programs are not installed."""
    override = os.environ.get("DEV_POSTGRES_BIN")
    found = shutil.which("pg_ctl")
    candidates = [Path(override)] if override else [Path(found).resolve().parent] if found else []
    if not override and DEBIAN_VERSIONS.is_dir():
        versions = [p for p in DEBIAN_VERSIONS.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    for candidate in candidates:
        if all((candidate / program).exists() for program in ("initdb", "pg_ctl", "postgres")):
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class PrivatePostgres:
    """A server at `endpoint` whose files are under `root` (`data/`, `server.log`)."""

    endpoint: Endpoint
    root: Path
    bin_dir: Path
    superuser: str
    run_as: pwd.struct_passwd | None

    @classmethod
    def for_url(cls, database_url: str, endpoint: Endpoint, run_dir: Path) -> PrivatePostgres:
        """The server to start for the URL; raises CannotStart (with the line to show) if none can be."""
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise endpoint.not_running(
                "and PostgreSQL's server programs (initdb, pg_ctl) are not installed: install them "
                "(apt-get install postgresql) or set DATABASE_URL"
            )
        run_as = None
        if os.geteuid() == 0:
            try:
                run_as = pwd.getpwnam("postgres")
            except KeyError:
                raise endpoint.not_running(
                    "and PostgreSQL will not run as root, with no postgres user here to run it as: "
                    "run make dev as another user or set DATABASE_URL"
                ) from None
        superuser = make_url(sync_url(database_url)).username or "postgres"
        return cls(endpoint, (run_dir / f"postgres-{endpoint.port}").resolve(), bin_dir, superuser, run_as)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def running(self) -> bool:
        """Its postmaster runs (an earlier `make dev` that was killed left it running)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 0)
        except PermissionError:  # alive, as another user's
            return True
        except (OSError, ValueError, IndexError):
            return False
        return True

    def start(self) -> float:
        """initdb (the first time), then start and wait until it accepts connections; the seconds it took."""
        started = time.monotonic()
        self._own_directory()
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust", "-E", "UTF8",
                      "--no-locale", "--no-sync", doing="start")  # fmt: skip
        host, port = self.endpoint.host, self.endpoint.port
        options = f"-p {port} -c listen_addresses={host} -c unix_socket_directories=''"
        # In a session of its own, so a Ctrl-C in the terminal reaches the runner, which stops it in order.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT), "-o", options,
                  "start", doing="start", start_new_session=True)  # fmt: skip
        return time.monotonic() - started

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, the data is kept for the next run."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", str(START_TIMEOUT), "stop", doing="stop")

    def _own_directory(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.run_as is None:
            return
        os.chown(self.root, self.run_as.pw_uid, self.run_as.pw_gid)
        reach = subprocess.run(["test", "-w", str(self.root)], **self._as_owner())
        if reach.returncode != 0:
            raise self.endpoint.not_running(
                f"and the postgres user (PostgreSQL will not run as root) cannot write to {self.root}: "
                "run make dev as another user, from a directory others can reach, or set DATABASE_URL"
            )

    def _run(self, program: str, *args: str, doing: str, start_new_session: bool = False) -> None:
        try:
            done = subprocess.run(
                [str(self.bin_dir / program), *args],
                stdin=subprocess.DEVNULL,
                timeout=START_TIMEOUT + 30,
                start_new_session=start_new_session,
                **self._as_owner(),
            )
        except subprocess.TimeoutExpired:
            raise CannotStart(
                f"could not {doing} the private PostgreSQL at {self.endpoint.shown}: {program} took over "
                f"{START_TIMEOUT + 30}s (log: {self.log})"
            ) from None
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines() or [f"exit {done.returncode}"]
            why = next((line for line in reversed(said) if "error" in line), said[-1])
            raise CannotStart(
                f"could not {doing} the private PostgreSQL at {self.endpoint.shown}: {why} (log: {self.log})"
            )

    def _as_owner(self) -> dict[str, Any]:
        owner: dict[str, Any] = {"capture_output": True, "text": True}
        if self.run_as is not None:
            # The postgres user's own groups only: never root's.
            owner |= {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        return owner
