"""Tables of agencies, people, roles, login sessions, API tokens, login throttling, devices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UtcDateTime, utcnow
from server.search import folded_default, keep_folded


class Agency(Base):
    """A government agency with its identifier code (mã định danh, Decision 20/2020/QĐ-TTg)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    """``XXX.YY.ZZ.Lnn``, e.g. ``000.00.00.H99``."""
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(
        Text, default=folded_default("name"), server_default=""
    )
    """``name`` by the search fold (:mod:`server.search`), kept on every write."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    """Depth in the tree: 1 province/ministry, 2 department or commune/ward (since 1 July 2025
    communes sit directly under the province; before, 2 was a district and 3 its communes)."""
    valid_from: Mapped[date | None] = mapped_column(Date)
    """First day the code is valid (None: since before the records begin)."""
    valid_to: Mapped[date | None] = mapped_column(Date)
    """Last day the code is valid; codes change with mergers, so they are data, not constants.
    What became of the unit afterwards is in :class:`AgencySuccession`."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[Agency | None] = relationship(remote_side=[id], lazy="raise")


class AgencySuccession(Base):
    """What became of an agency whose code ended: one row per successor (none when dissolved).

    Written by a restructuring (:mod:`server.accounts.restructure`), read by
    :mod:`server.accounts.history` to route what is addressed to an ended code."""

    __tablename__ = "agency_successions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    """The agency whose code ended."""
    successor_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), index=True
    )
    """The agency that carries on (None for ``dissolved``)."""
    change: Mapped[str] = mapped_column(String(16))
    """``merged`` (into), ``split`` (into), ``renamed`` (to) or ``dissolved``."""
    effective_date: Mapped[date] = mapped_column(Date)
    """First day of the successor; the ended code's ``valid_to`` is the day before."""
    act_number: Mapped[str] = mapped_column(String(100))
    """The legal act's number, e.g. ``9999/NQ-UBTVQH15``."""
    act_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class User(Base):
    """An official (cán bộ) or a machine account, belonging to one agency."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    search_folded: Mapped[str] = mapped_column(
        Text, default=folded_default("login", "full_name"), server_default=""
    )
    """``login`` and ``full_name`` by the search fold (:mod:`server.search`), kept on every
    write."""
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    """argon2id hash, or None for accounts that only use API tokens."""
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    """False once an administrator disabled the account: no login, no session, no token."""
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set by an administrator's password reset: the person must choose their own at next login."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


keep_folded(Agency, "name_folded", "name")
keep_folded(User, "search_folded", "login", "full_name")


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class LoginSession(Base):
    """A browser login; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    remote: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(Base):
    """A token for machines (other servers, the signing agent, scripts), hashed at rest."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """First characters of the token, shown in lists so a person can tell tokens apart."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    session_id: Mapped[int | None] = mapped_column(Integer)
    """The login session that minted the token (directly, or through a token it minted), or None
    for a machine token made by an administrator or the CLI.  "Log out everywhere" revokes every
    token with a session id: a token minted from a stolen session must die with it.  Not a
    foreign key: the fact that a session minted it must outlive the session row."""


class LoginThrottle(Base):
    """One throttling counter (fixed window), shared by every process: see
    :mod:`server.auth.throttle` for the keys.  ``count`` is failures plus attempts in flight."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer)


class KnownDevice(Base):
    """A browser where a person logged in successfully (its ``lt_device`` cookie, hashed).

    Login attempts from it are throttled on their own, so a stranger's failures elsewhere do not
    lock the owner out of their usual tablet.  It grants nothing else: no session, no access."""

    __tablename__ = "known_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class UserCertificate(Base):
    """A signing certificate registered to an official (chứng thư số của cán bộ): only these sign
    in their name (:mod:`signing.binding`). Matched by issuer and serial, and by the personal
    identification number in its subject; one certificate belongs to one person at most."""

    __tablename__ = "user_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    """The issuer's distinguished name (RFC 4514), with ``serial`` unique."""
    serial: Mapped[str] = mapped_column(String(64))
    """The serial number, lower-case hex."""
    personal_id: Mapped[str] = mapped_column(String(64))
    """The identity in the subject, e.g. ``CCCD:012345678901``."""
    subject_name: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the certificate (DER), hex."""
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    """``proposed`` (first use, awaits an administrator), ``approved`` or ``revoked``."""
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    """The administrator who registered it, or None when proposed on first use."""
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("issuer", "serial"),)
