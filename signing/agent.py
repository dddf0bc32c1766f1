"""The signing agent (``lienthong sign-agent``): runs on the clerk's PC beside the USB token.

It listens on 127.0.0.1 only and answers one web origin, the server it was started for. Pairing:
the agent prints a six-digit code on its terminal; the user types it into the web page, which
posts it to ``/pair`` and receives a bearer token for later calls. Any other origin gets 403.

Before each signature the agent shows what it is about to sign (number, subject, hashes) and asks
for the PIN through a :data:`PinProvider` (the terminal in real use; a stub in tests). The token
stays real: signing happens with CKM_SHA256_RSA_PKCS on the DER signed attributes the server
prepared (:mod:`signing.remote`), so the private key never leaves the token.

Routes (JSON): ``GET /status``, ``POST /pair {code}``, ``GET /certificates`` (per token: the
signer certificates with the label of their key, and the CA certificates on the token for the
chain; read without the PIN, certificates are public objects),
``POST /sign {request_id, to_sign_b64, message_digest, document_number, subject, key_label,
token_label}``.

The browser side is ``web/static/signing/agent.js``.
"""

from __future__ import annotations

import base64
import getpass
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from aiohttp import web
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from pkcs11 import Attribute, ObjectClass, TokenFlag

from server.errors import LienThongError
from server.secret import Secret
from signing.errors import AgentError
from signing.tokens import TokenSession, _mapped_errors, list_tokens, load_library

DEFAULT_PORT = 8765
"""The agent's port unless ``--port`` says otherwise; ``agent.js`` tries it first."""

PinProvider = Callable[["SignPrompt"], Awaitable[Secret | None]]
"""Shows the prompt and returns the PIN, or None when the user refuses."""


@dataclass(frozen=True, slots=True)
class SignPrompt:
    """What the signer is asked to confirm."""

    document_number: str
    subject: str
    message_digest: str
    key_label: str

    def text(self) -> str:
        return (
            "Yêu cầu ký số / signing request\n"
            f"  Văn bản số: {self.document_number}\n"
            f"  Trích yếu:  {self.subject}\n"
            f"  Mã băm (SHA-256 phần được ký): {self.message_digest}\n"
            f"  Khoá: {self.key_label}"
        )


@dataclass
class AgentConfig:
    lib_path: str
    origin: str
    """The only web origin served, e.g. ``https://lienthong.tinh.gov.vn``."""
    token_label: str | None = None
    pin_provider: PinProvider | None = None
    pairing_code: str = field(default_factory=lambda: f"{secrets.randbelow(10**6):06d}")
    session_token: str | None = None
    failed_pairings: int = 0
    demo: bool = False
    """The demo agent ``make run`` starts (demo token, demo PINs): it has no terminal, so the
    page sends the PIN with the request. Never for a real token: the page would see its PIN."""


AGENT = web.AppKey("agent", AgentConfig)
log = logging.getLogger(__name__)


def _json_error(status: int, code: str, detail_vi: str) -> web.Response:
    return web.json_response({"code": code, "detail_vi": detail_vi}, status=status)


def _cors(resp: web.StreamResponse, origin: str) -> web.StreamResponse:
    resp.headers["Access-Control-Allow-Origin"] = origin
    resp.headers["Vary"] = "Origin"
    resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Private-Network"] = "true"
    return resp


@web.middleware
async def _origin_guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    config = request.app[AGENT]
    origin = request.headers.get("Origin")
    if origin != config.origin:
        return _json_error(403, "agent.origin", "Trang web này không được ghép nối với công cụ ký.")
    if request.method == "OPTIONS":
        return _cors(web.Response(status=204), origin)
    if request.path not in ("/pair", "/status"):
        auth = request.headers.get("Authorization", "")
        token = config.session_token
        if token is None or not hmac.compare_digest(auth, f"Bearer {token}"):
            return _cors(
                _json_error(401, "agent.not_paired", "Chưa ghép nối: nhập mã ghép nối trên trang."),
                origin,
            )
    try:
        resp = await handler(request)
    except LienThongError as exc:
        resp = _json_error(exc.status, exc.code, exc.detail_vi)
    except web.HTTPException:
        raise
    except Exception:
        # answered with CORS headers, so that the page says "the agent failed" rather than
        # "the agent is not running" (a response without them is a network error to the page)
        log.exception("signing agent request failed")
        resp = _json_error(
            500, "agent.error", "Công cụ ký gặp lỗi; xem thông báo trên cửa sổ công cụ ký."
        )
    return _cors(resp, origin)


async def _status(request: web.Request) -> web.Response:
    config = request.app[AGENT]
    return web.json_response(
        {"paired": config.session_token is not None, "origin": config.origin, "demo": config.demo}
    )


async def _pair(request: web.Request) -> web.Response:
    config = request.app[AGENT]
    body = await _body(request)
    if config.failed_pairings >= 5:
        return _json_error(429, "agent.pairing_locked", "Nhập sai mã quá nhiều lần; khởi động lại.")
    if not hmac.compare_digest(str(body.get("code", "")), config.pairing_code):
        config.failed_pairings += 1
        return _json_error(403, "agent.bad_code", "Mã ghép nối không đúng.")
    config.session_token = secrets.token_urlsafe(32)
    return web.json_response({"token": config.session_token})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise AgentError("body is not JSON", detail_vi="Yêu cầu không đúng định dạng.") from None
    if not isinstance(body, dict):
        raise AgentError("body must be an object", detail_vi="Yêu cầu không đúng định dạng.")
    return body


def token_certificates(lib_path: str, token_label: str) -> dict[str, Any]:
    """The certificates on one token, read in a public session (no PIN): signer certificates
    (not CA) with the label of the key stored beside them, and the CA certificates (the chain)."""
    lib = load_library(lib_path)
    signers: list[dict[str, Any]] = []
    chain: list[str] = []
    with _mapped_errors(token_label):
        token = lib.get_token(token_label=token_label)
        if not token.flags & TokenFlag.TOKEN_INITIALIZED:
            return {"certificates": [], "chain_b64": []}
        with token.open() as session:
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                der = bytes(obj[Attribute.VALUE])
                try:
                    cert = asn1_x509.Certificate.load(der)
                    is_ca, subject = bool(cert.ca), cert.subject.human_friendly
                    not_after = cert.not_valid_after.isoformat()
                except (ValueError, TypeError):
                    continue  # a certificate we cannot read is not offered for signing
                b64 = base64.b64encode(der).decode()
                if is_ca:
                    chain.append(b64)
                    continue
                try:
                    label = str(obj[Attribute.LABEL])
                except pkcs11.exceptions.AttributeTypeInvalid:
                    label = ""
                signers.append(
                    {
                        "key_label": label,
                        "subject": subject,
                        "not_after": not_after,
                        "certificate_b64": b64,
                    }
                )
    return {"certificates": signers, "chain_b64": chain}


async def _certificates(request: web.Request) -> web.Response:
    import asyncio

    config = request.app[AGENT]
    tokens = await asyncio.to_thread(list_tokens, config.lib_path)
    if config.token_label is not None:
        tokens = [t for t in tokens if t.label == config.token_label]
    out: list[dict[str, Any]] = []
    for t in tokens:
        found = await asyncio.to_thread(token_certificates, config.lib_path, t.label)
        out.append({"label": t.label, "pin_locked": t.pin_locked, **found})
    return web.json_response({"tokens": out})


def _message_digest(signed_attrs: bytes) -> str:
    attrs = cms.CMSAttributes.load(signed_attrs)
    for attr in attrs:
        if attr["type"].native == "message_digest":
            return bytes(attr["values"][0].native).hex()
    raise AgentError(
        "the data to sign carries no message digest",
        detail_vi="Dữ liệu cần ký không hợp lệ (thiếu mã băm văn bản).",
    )


async def _sign(request: web.Request) -> web.Response:
    config = request.app[AGENT]
    body = await _body(request)
    try:
        to_sign = base64.b64decode(str(body["to_sign_b64"]), validate=True)
        key_label = str(body["key_label"])
        token_label = str(body.get("token_label") or config.token_label or "")
    except (KeyError, ValueError):
        raise AgentError("missing fields", detail_vi="Yêu cầu ký thiếu thông tin.") from None
    digest = _message_digest(to_sign)
    if str(body.get("message_digest", digest)).lower() != digest:
        raise AgentError(
            "the shown digest does not match the data to sign",
            detail_vi="Mã băm hiển thị không khớp với dữ liệu cần ký; từ chối ký.",
        )
    prompt = SignPrompt(
        document_number=str(body.get("document_number", "?")),
        subject=str(body.get("subject", "?")),
        message_digest=digest,
        key_label=key_label,
    )
    if config.demo:
        pin = Secret(str(body["pin"])) if body.get("pin") else None
    else:
        pin = await (config.pin_provider or terminal_pin_provider)(prompt)
    if pin is None:
        return _json_error(403, "agent.refused", "Người ký đã từ chối ký.")
    async with TokenSession(config.lib_path, token_label, pin) as session:
        label, key_id = await session.run(lambda: session.find_key(label=key_label))
        signature = await session.run(session.sign_raw, label, key_id, to_sign)
    return web.json_response({"signature_b64": base64.b64encode(signature).decode()})


async def terminal_pin_provider(prompt: SignPrompt) -> Secret | None:
    """Print the request and read the PIN on the terminal (empty PIN = refuse)."""
    import asyncio

    print(prompt.text(), flush=True)
    try:
        pin = await asyncio.to_thread(getpass.getpass, "Nhập mã PIN để ký (để trống để từ chối): ")
    except (EOFError, KeyboardInterrupt):
        # no terminal to ask on (closed input, Ctrl+C / Ctrl+D at the prompt): a refusal
        return None
    return Secret(pin) if pin else None


def make_agent_app(config: AgentConfig) -> web.Application:
    app = web.Application(middlewares=[_origin_guard], client_max_size=4 * 1024 * 1024)
    app[AGENT] = config
    app.router.add_get("/status", _status)
    app.router.add_post("/pair", _pair)
    app.router.add_get("/certificates", _certificates)
    app.router.add_post("/sign", _sign)
    app.router.add_route("OPTIONS", "/{tail:.*}", _status)
    return app


def run_agent(
    lib_path: str,
    origin: str,
    token_label: str | None,
    port: int = DEFAULT_PORT,
    *,
    demo: bool = False,
) -> int:
    """``lienthong sign-agent`` (the parser is in :mod:`signing.cli`): serve until interrupted.

    ``demo``: the demo agent (:attr:`AgentConfig.demo`), pairing code from
    ``$LIENTHONG_DEMO_PAIRING_CODE`` (printed by the server that starts it)."""
    import os

    config = AgentConfig(
        lib_path=lib_path, origin=origin.rstrip("/"), token_label=token_label, demo=demo
    )
    code = os.environ.get("LIENTHONG_DEMO_PAIRING_CODE", "")
    if demo and len(code) == 6 and code.isdigit():
        config.pairing_code = code
    kind = "DEMO (token thử nghiệm)" if demo else "Liên Thông"
    print(f"Công cụ ký {kind} cho {config.origin} trên http://127.0.0.1:{port}")
    print(f"Mã ghép nối / pairing code: {config.pairing_code}", flush=True)
    web.run_app(make_agent_app(config), host="127.0.0.1", port=port, print=None)
    return 0
