"""Signing certificates registered to officials (``user_certificates``): who may sign with which
certificate. An administrator registers one, or the signing step proposes it on first use and an
administrator approves it (:mod:`signing.binding` enforces the registry).

A certificate is known by its issuer and serial number and carries the holder's personal
identification number in its subject: Vietnamese CAs write ``CCCD:<12 digits>`` (or the older
``CMND:``, ``HC:`` for a passport) in the subject's ``UID`` or ``serialNumber`` attribute, and an
organisation's certificate (a seal) ``MST:``/``MNS:`` (tax or budget code) instead. A certificate
without a personal identification number is not a personal certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User, UserCertificate
from server.db.base import utcnow
from server.errors import Conflict, NotFound, ValidationFailed

PERSONAL_PREFIXES = ("CCCD:", "CMND:", "HC:")
"""Identity prefixes of a person (citizen id card, old id card, passport)."""
ORGANISATION_PREFIXES = ("MST:", "MNS:")
"""Identity prefixes of an organisation (tax code, budget unit code): a seal, not a person."""
STATUSES = ("proposed", "approved", "revoked")
_ID_OIDS = (NameOID.USER_ID, NameOID.SERIAL_NUMBER)


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the registry keeps of a certificate."""

    issuer: str
    serial: str
    personal_id: str | None
    organisation_id: str | None
    subject_name: str
    title: str
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime
    der: bytes


class CertificateUnreadable(ValidationFailed):
    code = "certificate.unreadable"


class CertificateTaken(Conflict):
    """The certificate is already registered to someone else."""

    code = "certificate.taken"


class UnknownCertificate(NotFound):
    code = "certificate.unknown"


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def facts_of(der: bytes) -> CertificateFacts:
    """Read ``der``; :class:`CertificateUnreadable` when it is not an X.509 certificate."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject, issuer = cert.subject, cert.issuer.rfc4514_string()
    except ValueError:
        raise CertificateUnreadable(
            "the certificate cannot be read", detail_vi="Chứng thư số không đọc được."
        ) from None
    ids = [v.strip() for oid in _ID_OIDS for v in _attr(subject, oid)]
    personal = next((v for v in ids if v.upper().startswith(PERSONAL_PREFIXES)), None)
    organisation = next((v for v in ids if v.upper().startswith(ORGANISATION_PREFIXES)), None)
    return CertificateFacts(
        issuer=issuer[:500],
        serial=format(cert.serial_number, "x"),
        personal_id=personal.upper()[:64] if personal else None,
        organisation_id=organisation,
        subject_name=(_attr(subject, NameOID.COMMON_NAME) or [""])[0][:300],
        title=(_attr(subject, NameOID.TITLE) or [""])[0][:200],
        fingerprint=hashlib.sha256(der).hexdigest(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        der=der,
    )


def certificate_dict(row: UserCertificate) -> dict[str, Any]:
    """A registered certificate as the API shows it (without the DER)."""
    return {
        "id": row.id,
        "issuer": row.issuer,
        "serial": row.serial,
        "personal_id": row.personal_id,
        "subject_name": row.subject_name,
        "fingerprint": row.fingerprint,
        "not_before": row.not_before.isoformat(),
        "not_after": row.not_after.isoformat(),
        "status": row.status,
        "created_at": row.created_at.isoformat(),
    }


async def find_txn(
    session: AsyncSession, issuer: str, serial: str
) -> tuple[UserCertificate, User] | None:
    """The registration of a certificate (by issuer and serial) and whose it is."""
    row = (
        await session.execute(
            select(UserCertificate, User)
            .join(User, User.id == UserCertificate.user_id)
            .where(UserCertificate.issuer == issuer, UserCertificate.serial == serial)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def holder_of_txn(session: AsyncSession, personal_id: str, not_user: int) -> User | None:
    """Another person with a certificate approved for this personal id (a proposal, which anyone
    can make by using a certificate, reserves nothing)."""
    row = (
        await session.execute(
            select(User)
            .join(UserCertificate, User.id == UserCertificate.user_id)
            .where(
                UserCertificate.personal_id == personal_id,
                UserCertificate.user_id != not_user,
                UserCertificate.status == "approved",
            )
            .limit(1)
        )
    ).scalar_one_or_none()
    return row


async def certificates_of_txn(
    session: AsyncSession, user_id: int, status: str | None = None
) -> list[UserCertificate]:
    """A person's registered certificates (only those in ``status`` when given)."""
    query = select(UserCertificate).where(UserCertificate.user_id == user_id)
    if status:
        query = query.where(UserCertificate.status == status)
    return list((await session.scalars(query.order_by(UserCertificate.id))).all())


def _taken(owner: User) -> CertificateTaken:
    return CertificateTaken(
        f"the certificate is registered to {owner.login}",
        detail_vi=f"Chứng thư số này đã được đăng ký cho {owner.full_name} ({owner.login}); "
        "một chứng thư số chỉ thuộc về một người.",
    )


async def register_txn(
    session: AsyncSession, user: User, facts: CertificateFacts, *, status: str, by: int | None
) -> UserCertificate:
    """Register ``facts`` to ``user`` (``approved`` by an administrator ``by``, or ``proposed`` on
    first use); :class:`CertificateTaken` when it, or its personal id, is someone else's."""
    if not facts.personal_id:
        raise ValidationFailed(
            "not a personal certificate",
            detail_vi="Chứng thư số không mang số định danh cá nhân (CCCD/CMND) nên không phải "
            "chứng thư số cá nhân; con dấu của cơ quan không đăng ký cho một người.",
            code="certificate.not_personal",
        )
    found = await find_txn(session, facts.issuer, facts.serial)
    if found and found[1].id != user.id:
        if found[0].status == "approved" or status != "approved":
            raise _taken(found[1])
        found[0].user_id = user.id  # the administrator gives a proposed or withdrawn one its owner
        found = (found[0], user)
    other = await holder_of_txn(session, facts.personal_id, user.id)
    if other is not None:
        raise _taken(other)
    if found:
        row = found[0]
        if status == "approved":
            row.status, row.decided_by, row.decided_at = status, by, utcnow()
        return row
    row = UserCertificate(
        user_id=user.id,
        issuer=facts.issuer,
        serial=facts.serial,
        personal_id=facts.personal_id,
        subject_name=facts.subject_name,
        fingerprint=facts.fingerprint,
        not_before=facts.not_before,
        not_after=facts.not_after,
        der=facts.der,
        status=status,
        added_by=by,
        decided_by=by if status == "approved" else None,
        decided_at=utcnow() if status == "approved" else None,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise _taken(user) from None
    return row


async def decide_txn(
    session: AsyncSession, user_id: int, cert_id: int, status: str, by: int
) -> UserCertificate:
    """An administrator approves or revokes a person's registered certificate."""
    row = await session.get(UserCertificate, cert_id)
    if row is None or row.user_id != user_id:
        raise UnknownCertificate(
            "no such certificate",
            detail_vi="Không có chứng thư số này trong đăng ký của người này.",
        )
    if status == "approved":
        other = await holder_of_txn(session, row.personal_id, user_id)
        if other is not None:
            raise _taken(other)
    row.status, row.decided_by, row.decided_at = status, by, utcnow()
    return row


async def all_certificates_txn(session: AsyncSession) -> list[dict[str, Any]]:
    """Every registered certificate with whose it is, proposed ones first (the admin page)."""
    rows = await session.execute(
        select(UserCertificate, User)
        .join(User, User.id == UserCertificate.user_id)
        .order_by(UserCertificate.status != "proposed", User.login, UserCertificate.id)
    )
    return [
        {**certificate_dict(c), "login": u.login, "full_name": u.full_name} for c, u in rows.all()
    ]
