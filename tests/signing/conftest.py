"""Signing fixtures over the session's development PKI with its SoftHSM2 token (``tests/hsm.py``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.secret import Secret
from signing.devpki import SOFTHSM_LIB, DevPki
from signing.sample import make_sample_pdf
from signing.tokens import TokenSession
from signing.trust import load_cert_files

if not Path(SOFTHSM_LIB).exists() or shutil.which("softhsm2-util") is None:
    pytest.skip("SoftHSM2 is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def pki(token_pki: DevPki) -> DevPki:
    """The session's token PKI (``tests/hsm.py``: one SoftHSM2 configuration per process)."""
    return token_pki


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
