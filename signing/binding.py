"""Signatures bound to their signer (chữ ký gắn với người ký): a personal signature — a leader's on
a draft, the secretariat's on the minutes, an uploaded file — is made only with a certificate
registered to the person logged in (:mod:`server.accounts.certificates`).

:func:`check_signer` is the rule, given the signer's certificate and what the registry knows of
it; :class:`SignerBinding` reads the registry and is called by :mod:`signing.twophase` at prepare
(so that nothing is signed) and again at finish. A certificate nobody has registered is proposed
for the person on first use and refused until an administrator approves it. An organisation's
certificate (the agency seal: ``MST:``/``MNS:`` and no personal id) is never a personal signature:
the seal is applied only by the server with the agency's seal key (:mod:`documents.sealing`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.certificates import (
    CertificateFacts,
    facts_of,
    find_txn,
    holder_of_txn,
    register_txn,
)
from server.accounts.models import User, UserCertificate
from server.accounts.principal import Principal
from server.db.engine import Database
from server.errors import ConfigError, Forbidden
from signing.errors import CertificateProblem, SigningErrorCode
from signing.remote import SignerCheck


class SignerNotBound(Forbidden):
    """The certificate is not registered (approved) to the person signing."""

    code = SigningErrorCode.SIGNER_NOT_BOUND
    title = "Certificate not registered to the signer"


class NotPersonal(Forbidden):
    """An organisation's certificate (a seal) offered as a personal signature."""

    code = SigningErrorCode.NOT_PERSONAL
    title = "Not a personal certificate"


@dataclass(frozen=True, slots=True)
class Registration:
    """What the registry says of a certificate: its row and whose it is (None: not registered),
    and, when not registered, another person holding the same personal id."""

    row: UserCertificate | None
    owner: User | None
    other_holder: User | None = None


def _validity(facts: CertificateFacts, now: dt.datetime) -> None:
    if now < facts.not_before:
        raise CertificateProblem(
            "the certificate is not valid yet",
            f"chứng thư số của {facts.subject_name} chưa có hiệu lực "
            f"(từ {facts.not_before:%d/%m/%Y}).",
        )
    if now > facts.not_after:
        raise CertificateProblem(
            "the certificate has expired",
            f"chứng thư số của {facts.subject_name} đã hết hạn ngày {facts.not_after:%d/%m/%Y}.",
        )


def _not_yours(facts: CertificateFacts, owner: User) -> SignerNotBound:
    return SignerNotBound(
        f"the certificate is registered to {owner.login}, not to the person signing",
        detail_vi=f"Chứng thư số này là của {facts.subject_name} (đăng ký cho tài khoản "
        f"{owner.full_name} — {owner.login}), không phải của người đang đăng nhập; "
        "văn bản không được ký.",
        extra={"certificate_subject": facts.subject_name, "registered_to": owner.login},
    )


def check_signer(
    p: Principal, facts: CertificateFacts, reg: Registration, now: dt.datetime
) -> None:
    """Refuse unless ``facts`` is a valid personal certificate registered, approved, to ``p``."""
    if not facts.personal_id:
        raise NotPersonal(
            "an organisation's certificate cannot make a personal signature",
            detail_vi=f"Chứng thư số của {facts.subject_name} không phải chứng thư số cá nhân "
            "(không có số CCCD/CMND; con dấu của cơ quan chỉ được đóng bằng khoá con dấu trên "
            "máy chủ); văn bản không được ký.",
        )
    _validity(facts, now)
    if reg.owner is not None and reg.owner.id != p.user_id:
        raise _not_yours(facts, reg.owner)
    if reg.other_holder is not None:
        raise _not_yours(facts, reg.other_holder)
    row = reg.row
    if row is None or row.status == "proposed":
        raise SignerNotBound(
            "the certificate awaits an administrator's approval",
            detail_vi=f"Chứng thư số của {facts.subject_name} chưa được đăng ký cho tài khoản "
            f"{p.login}; đã gửi đề nghị đăng ký, chờ quản trị phê duyệt rồi ký lại.",
            code="signing.signer_pending",
        )
    if row.status != "approved" or row.personal_id != facts.personal_id:
        raise SignerNotBound(
            "the certificate's registration was revoked",
            detail_vi=f"Đăng ký chứng thư số của {facts.subject_name} cho tài khoản {p.login} "
            "đã bị thu hồi; văn bản không được ký.",
        )


class SignerBinding:
    """The registry's side of :func:`check_signer`, one per application."""

    def __init__(self, db: Callable[[], Database]) -> None:
        self._db = db
        """The application's database, read when first needed (it opens at startup)."""

    async def require(self, p: Principal, der: bytes, *, propose: bool = True) -> None:
        """Refuse (problem+json) unless ``der`` may sign for ``p`` now; an unregistered personal
        certificate is first stored as ``proposed`` for ``p`` when ``propose``."""
        facts = facts_of(der)

        async def run(session: AsyncSession) -> Registration:
            found = await find_txn(session, facts.issuer, facts.serial)
            if found:
                return Registration(found[0], found[1])
            other = (
                await holder_of_txn(session, facts.personal_id, p.user_id)
                if facts.personal_id
                else None
            )
            if other is None and propose and facts.personal_id and _usable(facts):
                user = await session.get(User, p.user_id)
                if user is not None:
                    await register_txn(session, user, facts, status="proposed", by=None)
            return Registration(None, None, other)

        reg = await self._db().write("signer_binding", run)
        check_signer(p, facts, reg, dt.datetime.now(dt.UTC))


def _usable(facts: CertificateFacts) -> bool:
    now = dt.datetime.now(dt.UTC)
    return facts.not_before <= now <= facts.not_after


def last_signer_certificate(pdf: bytes) -> bytes | None:
    """The certificate (DER) of the last signature in ``pdf`` that is not a document timestamp;
    None when there is none or the file cannot be read (its validation refuses it then)."""
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    from signing.library_errors import SIGNATURE_ERRORS

    try:
        sigs = PdfFileReader(BytesIO(pdf), strict=False).embedded_regular_signatures
        cert = sigs[-1].signer_cert if sigs else None
        return None if cert is None else bytes(cert.dump())
    except SIGNATURE_ERRORS:
        return None


async def require_signed_by(binding: SignerCheck | None, p: Principal, pdf: bytes) -> None:
    """Refuse an uploaded signed file (e.g. the minutes) whose last signature was made with a
    certificate not registered to ``p``: the same rule as signing through the agent."""
    import asyncio

    if binding is None:
        raise ConfigError("signing.binding", "no signer registry: personal signatures refused")
    der = await asyncio.to_thread(last_signer_certificate, pdf)
    if der is not None:
        await binding.require(p, der)
