"""Running the installed `clinics` command as a user would: a subprocess against the run's vhost."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLI_TIMEOUT = 180.0


def clinics_executable() -> str:
    beside = Path(sys.executable).parent / "clinics"
    found = str(beside) if beside.exists() else shutil.which("clinics")
    assert found, "the `clinics` command is not installed (pip install -e cli)"
    return found


@dataclass(frozen=True)
class Result:
    """What a user sees: the exit code and the two streams."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def ok(self) -> Result:
        assert self.code == 0, f"clinics {' '.join(self.args)} exited {self.code}: {self.stderr}{self.stdout}"
        return self

    def failed(self, code: int) -> Result:
        assert self.code == code, f"expected exit {code}, got {self.code}: {self.stderr}{self.stdout}"
        assert "Traceback" not in self.stderr + self.stdout, self.stderr
        return self

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class Cli:
    """`await cli("children", "activity", child_id)`; `json=True` adds the global --json."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.executable = clinics_executable()

    async def __call__(self, *args: object, json: bool = False, url: str | None = None) -> Result:
        argv = [str(a) for a in args]
        if json:
            argv = ["--json", *argv]
        env = {k: v for k, v in os.environ.items() if k not in {"CLINICS_RABBITMQ_URL", "COLUMNS"}}
        env["RABBITMQ_URL"] = url or self.url
        process = await asyncio.create_subprocess_exec(
            self.executable,
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=CLI_TIMEOUT)
        assert process.returncode is not None
        return Result(tuple(argv), process.returncode, stdout.decode(), stderr.decode())
