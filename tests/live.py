"""A real server process and a real Chromium, for tests that drive pages as a person would.

``LiveServer`` runs ``lienthong db upgrade``, ``lienthong demo`` and ``lienthong serve`` in a
temporary data directory on a free loopback port, exactly as ``make run`` does, and stops the
process by its PID.  ``chromium()`` launches Debian's Chromium through Playwright.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 820, "height": 1180}
"""A 10-inch tablet in portrait, the council members' device."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LIENTHONG_DATA_DIR": str(data_dir),
            "LIENTHONG_PORT": str(self.port),
            "LIENTHONG_HOST": "127.0.0.1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lienthong.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        for step in (("db", "upgrade"), ("demo",)):
            done = self.cli(*step)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step)} failed: {done.stderr}")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lienthong.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer /healthz within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def live_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    server = LiveServer(data_dir, env)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextmanager
def chromium(**launch: Any) -> Iterator[Any]:
    """A Playwright Chromium browser (sync API: call from plain, non-async tests).

    Give ``page.wait_for_function`` an arrow function (``"() => …"``), never a bare expression:
    Playwright ``eval``s a bare expression at each poll, which the pages' CSP (no
    ``unsafe-eval``) refuses as soon as the first poll is not already true.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *launch.pop("args", [])], **launch
        )
        try:
            yield browser
        finally:
            browser.close()
