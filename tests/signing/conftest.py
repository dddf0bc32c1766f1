"""The development PKI, its SoftHSM2 token and its TSA/OCSP/CRL responder, once per test session.

The responder runs as a child process (``python -m signing.cli dev-pki serve``) because signing
calls block; the token is real SoftHSM2 with its own configuration in the temporary directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.secret import Secret
from signing.devpki import SOFTHSM_LIB, DevPki, create_dev_pki
from signing.sample import make_sample_pdf
from signing.tokens import TokenSession
from signing.trust import load_cert_files

if not Path(SOFTHSM_LIB).exists() or shutil.which("softhsm2-util") is None:
    pytest.skip("SoftHSM2 is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
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
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevPki]:
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
        _wait_port(port, proc)
        yield made
    finally:
        proc.terminate()
        proc.wait(10)
        if old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = old


@pytest.fixture(scope="session")
def token(pki: DevPki) -> Iterator[TokenSession]:
    with TokenSession(SOFTHSM_LIB, pki.token_label, Secret(pki.user_pin)) as session:
        yield session


@pytest.fixture(scope="session")
def roots(pki: DevPki) -> list[object]:
    return list(load_cert_files([pki.root_pem]))


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "quyet-dinh.pdf"
    make_sample_pdf(path)
    return path
