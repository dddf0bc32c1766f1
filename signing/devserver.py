"""Loopback services of the development PKI: an RFC 3161 timestamp authority, an OCSP responder
and the CRLs, as one aiohttp application on 127.0.0.1 (``lienthong dev-pki serve``).

The TSA reuses pyHanko's :class:`~pyhanko.sign.timestamps.dummy_client.DummyTimeStamper`, which
builds real RFC 3161 tokens signed by the TSA key. OCSP answers are signed by the issuing CA
itself (no delegated responder), which RFC 6960 allows and every validator accepts.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging

from aiohttp import web
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.devpki import DevPki

log = logging.getLogger(__name__)


class _Authority:
    """The CA material the responder needs, loaded once."""

    def __init__(self, pki: DevPki) -> None:
        self.pki = pki
        self.root = x509.load_pem_x509_certificate(pki.root_pem.read_bytes())
        self.inter = x509.load_pem_x509_certificate((pki.dir / "intermediate.pem").read_bytes())
        self.keys: dict[bytes, rsa.RSAPrivateKey] = {}
        for cert, name in ((self.root, "root"), (self.inter, "intermediate")):
            key = serialization.load_pem_private_key(
                (pki.dir / "keys" / f"{name}.key.pem").read_bytes(), None
            )
            assert isinstance(key, rsa.RSAPrivateKey)
            self.keys[cert.subject.public_bytes()] = key
        self.revoked = set(pki.revoked_serials)
        tsa_cert = asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(pki.cert("tsa").read_bytes()).public_bytes(
                serialization.Encoding.DER
            )
        )
        tsa_key = asn1_keys.PrivateKeyInfo.load(
            serialization.load_pem_private_key(pki.key("tsa").read_bytes(), None).private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        chain = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in (self.inter, self.root)
        ]
        store = SimpleCertificateStore.from_certs(chain)  # type: ignore[no-untyped-call]
        self.tsa = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=store)

    def ocsp_response(self, request_der: bytes) -> bytes:
        try:
            req = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        issuer = next(
            (
                c
                for c in (self.inter, self.root)
                if _key_hash(c, req.hash_algorithm) == req.issuer_key_hash
            ),
            None,
        )
        if issuer is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = req.serial_number in self.revoked
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=req.issuer_name_hash,
            issuer_key_hash=req.issuer_key_hash,
            serial_number=req.serial_number,
            algorithm=req.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(minutes=1),
            next_update=now + dt.timedelta(days=1),
            revocation_time=now - dt.timedelta(days=1) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        for ext in req.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        key = self.keys[issuer.subject.public_bytes()]
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _key_hash(cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    from asn1crypto import keys

    spki = keys.PublicKeyInfo.load(
        cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    digest = hashes.Hash(algorithm)
    digest.update(spki["public_key"].contents[1:])
    return digest.finalize()


AUTHORITY = web.AppKey("authority", _Authority)


async def _tsa(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        req = tsp.TimeStampReq.load(body)
        _ = req.native
    except ValueError:
        return web.Response(status=400, text="bad timestamp request")
    resp = await request.app[AUTHORITY].tsa.async_request_tsa_response(req)
    return web.Response(body=resp.dump(), content_type="application/timestamp-reply")


async def _ocsp_post(request: web.Request) -> web.Response:
    der = request.app[AUTHORITY].ocsp_response(await request.read())
    return web.Response(body=der, content_type="application/ocsp-response")


async def _ocsp_get(request: web.Request) -> web.Response:
    try:
        raw = base64.b64decode(request.match_info["req"] + "==")
    except ValueError:
        raw = b""
    der = request.app[AUTHORITY].ocsp_response(raw)
    return web.Response(body=der, content_type="application/ocsp-response")


async def _crl(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ("root", "intermediate"):
        raise web.HTTPNotFound()
    path = request.app[AUTHORITY].pki.dir / "crl" / f"{name}.crl"
    return web.Response(body=path.read_bytes(), content_type="application/pkix-crl")


def make_app(pki: DevPki) -> web.Application:
    """The responder application for the dev PKI in ``pki.dir``."""
    app = web.Application()
    app[AUTHORITY] = _Authority(pki)
    app.router.add_post("/tsa", _tsa)
    app.router.add_post("/ocsp", _ocsp_post)
    app.router.add_get("/ocsp/{req:.+}", _ocsp_get)
    app.router.add_get("/crl/{name}.crl", _crl)
    return app


def serve(pki: DevPki, port: int | None = None) -> None:
    """Run the responder on 127.0.0.1 until interrupted."""
    web.run_app(make_app(pki), host="127.0.0.1", port=port or pki.port, print=None)
