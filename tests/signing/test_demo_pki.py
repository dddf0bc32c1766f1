"""The demo PKI of ``lienthong demo`` (:mod:`lienthong.demo_pki`): made once, and trusted, sealed
with and served only in demo mode."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from documents.sealing import load_seals
from lienthong.demo_pki import (
    SIGNERS,
    ensure_demo_pki,
    refresh_demo_trust,
    start_demo,
    token_labels,
)
from server.config import load_config
from signing.trust import TrustStore, fingerprint, load_certs

pytestmark = [pytest.mark.hsm, pytest.mark.slow]


def test_demo_pki_is_made_once_and_trusted_in_demo_mode_only(tmp_path: Path) -> None:
    env = {"LIENTHONG_DATA_DIR": str(tmp_path)}
    plain = load_config(env=env)
    demo = load_config(env={**env, "LIENTHONG_DEMO": "1"})
    pki, created = ensure_demo_pki(demo)
    assert created
    again, created_again = ensure_demo_pki(demo)
    assert not created_again and again.root_pem.read_bytes() == pki.root_pem.read_bytes()
    root = fingerprint(load_certs(pki.root_pem.read_bytes())[0])

    # demo mode: the demo root is a trust root; otherwise it is not, and nothing is started
    assert root in {r.fingerprint for r in TrustStore(demo.trust_dir).list()}
    assert plain.trust_dir == tmp_path / "trust"
    assert root not in {r.fingerprint for r in TrustStore(plain.trust_dir).list()}
    assert start_demo(plain, "http://127.0.0.1:1") is None
    # a real root added later is trusted in demo mode too, and dropped there when removed
    real = TrustStore(tmp_path / "trust")
    other = ensure_demo_pki(load_config(env={"LIENTHONG_DATA_DIR": str(tmp_path / "b")}))[0]
    real.add(other.root_pem.read_bytes())
    refresh_demo_trust(demo, pki)
    assert len(TrustStore(demo.trust_dir).list()) == 2
    real.remove(real.list()[0].fingerprint)
    refresh_demo_trust(demo, pki)
    assert [r.fingerprint for r in TrustStore(demo.trust_dir).list()] == [root]
    # the demo seals are not the server's seals.toml
    assert load_seals(tmp_path, env={}).seals == ()

    # one token per demo signer, in the agent's own store (not the server's seal token)
    env = dict(os.environ, SOFTHSM2_CONF=str(pki.dir / SIGNERS / "softhsm2.conf"))
    slots = subprocess.run(
        ["softhsm2-util", "--show-slots"], env=env, capture_output=True, text=True, check=True
    ).stdout
    found = [line.split(":", 1)[1].strip() for line in slots.splitlines() if "Label:" in line]
    labels = sorted(label for label in found if label)  # (the free slot has no label)
    assert labels == sorted(token_labels().values()), slots
