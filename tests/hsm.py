"""The one development PKI with a SoftHSM2 token per test process, and its TSA/OCSP/CRL responder.

SoftHSM2 reads ``SOFTHSM2_CONF`` once, when the library is first initialised in a process, and
python-pkcs11 keeps the library loaded: a second token directory in the same process would be
silently ignored (its keys would not match its certificates). So every package's tests that need
a token use this session fixture (``token_pki``, re-exported by ``tests/conftest.py``), never a
PKI of their own with a token. PKIs without a token (``with_token=False``) are fine anywhere.

The responder runs as a child process (``python -m signing.cli dev-pki serve``) because signing
calls block.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from signing.devpki import DevPki, create_dev_pki


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dev PKI responder exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dev PKI responder did not start")


@pytest.fixture(scope="session")
def token_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevPki]:
    directory = tmp_path_factory.mktemp("devpki")
    port = free_port()
    made = create_dev_pki(directory, port)
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(made.softhsm_conf)
    proc = subprocess.Popen(
        [sys.executable, "-m", "signing.cli", "dev-pki", "serve", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        yield made
    finally:
        proc.terminate()
        proc.wait(10)
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old
