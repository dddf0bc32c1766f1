"""Configuration: a TOML file plus ``LIENTHONG_*`` environment variables, checked at load.

Every section is a frozen dataclass whose fields are documented where they are declared.  A value
that does not fit stops the server with :class:`~server.errors.ConfigError` naming the key.

Precedence, lowest to highest: defaults → TOML file (``--config FILE`` or ``LIENTHONG_CONFIG``) →
environment.  The environment variables the README and scripts rely on:

``LIENTHONG_DATA_DIR``      data directory (SQLite file, stored files, trust roots)
``LIENTHONG_DATABASE_URL``  SQLAlchemy URL; ``postgresql+asyncpg://…`` switches to PostgreSQL
``LIENTHONG_HOST``          listen address (default 127.0.0.1)
``LIENTHONG_PORT``          listen port (default 8080)
``LIENTHONG_REALTIME``      ``memory`` (default), ``postgres`` or ``redis``
``LIENTHONG_REDIS_URL``     Redis URL when ``LIENTHONG_REALTIME=redis``
``LIENTHONG_LOG_LEVEL``     DEBUG, INFO (default), WARNING, ERROR
``LIENTHONG_SECURE_COOKIES`` ``1`` to mark cookies Secure (behind an HTTPS proxy)
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.errors import ConfigError
from server.secret import Secret

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_REALTIME = ("memory", "postgres", "redis")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 8080
    """TCP port to listen on."""
    max_body_bytes: int = 64 * 1024 * 1024
    """Largest request body accepted (uploads included); larger ones get 413."""
    max_json_bytes: int = 1024 * 1024
    """Largest JSON body accepted by API endpoints."""
    secure_cookies: bool = False
    """Mark cookies ``Secure``; turn on when served over HTTPS (behind a reverse proxy)."""
    backlog: int = 2048
    """Listen backlog; must exceed the number of tablets that may reconnect at once."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses of reverse proxies whose ``X-Forwarded-For`` is believed (for throttling, logs)."""
    tls_cert: Path | None = None
    """PEM certificate chain: serve HTTPS directly (without a reverse proxy in front)."""
    tls_key: Path | None = None
    """PEM private key of ``tls_cert``."""
    tls_client_ca: Path | None = None
    """PEM CA certificates that issue peer servers' client certificates. When set, clients may
    present a certificate (browsers need not); federation peers configured with a pinned client
    certificate must (mutual TLS, see docs/documents.md)."""
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    """Client addresses that may read ``/metrics`` (others get 404). A request relayed by a proxy
    that is not in ``trusted_proxies`` is refused whatever its peer address."""


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: Secret
    """SQLAlchemy async URL.  Default: ``sqlite+aiosqlite:///<data_dir>/lienthong.db``."""
    echo: bool = False
    """Log every SQL statement (development only)."""

    @property
    def is_sqlite(self) -> bool:
        return self.url.reveal().startswith("sqlite")


@dataclass(frozen=True, slots=True)
class AuthConfig:
    session_hours: int = 12
    """How long a login session lasts without activity."""
    max_failed_logins: int = 5
    """Failed logins for one account from one address (or one known device) within
    ``throttle_minutes`` before that source is throttled; four times as many from all strangers
    together, or from one address across accounts (:mod:`server.auth.throttle`)."""
    throttle_minutes: int = 15
    """Window (and lock-out length) of login throttling."""


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    backend: str = "memory"
    """``memory`` (one process), ``postgres`` (LISTEN/NOTIFY on the main database) or ``redis``."""
    redis_url: Secret = field(default_factory=lambda: Secret("redis://127.0.0.1:6379/0"))
    """Redis URL when ``backend = "redis"``."""
    client_queue: int = 256
    """Events queued for one WebSocket before that client is dropped as too slow."""
    history: int = 1024
    """Recent events kept per channel so a reconnecting client can catch up."""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration of one server process."""

    data_dir: Path
    """Where the SQLite file, stored files and trust roots live."""
    http: HttpConfig
    database: DatabaseConfig
    auth: AuthConfig
    realtime: RealtimeConfig
    log_level: str = "INFO"
    """Logging level; logs are JSON lines on stderr."""
    demo: bool = False
    """Seed the demo province at start-up (``make run`` turns it on)."""

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def trust_dir(self) -> Path:
        """``<data_dir>/trust``; in demo mode with a demo PKI, ``<data_dir>/demo-pki/trust``:
        the same roots plus the demo root (``lienthong.demo_pki``), trusted in demo mode only."""
        demo = self.data_dir / "demo-pki" / "trust"
        if self.demo and demo.is_dir():
            return demo
        return self.data_dir / "trust"


def _section(raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a table")
    return dict(value)


def _int(key: str, value: Any, lo: int, hi: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"expected an integer, got {value!r}") from None
    if isinstance(value, bool) or not lo <= number <= hi:
        raise ConfigError(key, f"must be between {lo} and {hi}, got {value!r}")
    return number


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(key, f"expected true or false, got {value!r}")


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value)
    if text not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, got {value!r}")
    return text


def _file(key: str, value: Any) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(key, "must be a file path")
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(key, f"file {path} does not exist")
    return path


def _addresses(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list of IP addresses")
    out = []
    for item in value:
        try:
            out.append(str(ipaddress.ip_address(str(item))))
        except ValueError:
            raise ConfigError(key, f"{item!r} is not an IP address") from None
    return tuple(out)


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None


def _http_tls(env: Mapping[str, str], http: dict[str, Any]) -> tuple[Path | None, ...]:
    tls_cert = _file("http.tls_cert", env.get("LIENTHONG_TLS_CERT") or http.get("tls_cert"))
    tls_key = _file("http.tls_key", env.get("LIENTHONG_TLS_KEY") or http.get("tls_key"))
    tls_client_ca = _file(
        "http.tls_client_ca", env.get("LIENTHONG_TLS_CLIENT_CA") or http.get("tls_client_ca")
    )
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("http.tls_key", "http.tls_cert and http.tls_key go together")
    if tls_client_ca is not None and tls_cert is None:
        raise ConfigError("http.tls_client_ca", "needs http.tls_cert and http.tls_key")
    return tls_cert, tls_key, tls_client_ca


def _http_config(env: Mapping[str, str], http: dict[str, Any]) -> HttpConfig:
    host = env.get("LIENTHONG_HOST") or http.get("host", "127.0.0.1")
    if not isinstance(host, str) or not host:
        raise ConfigError("http.host", "must be a non-empty string")
    tls_cert, tls_key, tls_client_ca = _http_tls(env, http)
    return HttpConfig(
        host=host,
        port=_int("http.port", env.get("LIENTHONG_PORT") or http.get("port", 8080), 1, 65535),
        max_body_bytes=_int(
            "http.max_body_bytes", http.get("max_body_bytes", 64 << 20), 1024, 2 << 30
        ),
        max_json_bytes=_int(
            "http.max_json_bytes", http.get("max_json_bytes", 1 << 20), 1024, 64 << 20
        ),
        secure_cookies=_bool(
            "http.secure_cookies",
            env.get("LIENTHONG_SECURE_COOKIES", http.get("secure_cookies", False)),
        ),
        backlog=_int("http.backlog", http.get("backlog", 2048), 16, 65535),
        trusted_proxies=_addresses("http.trusted_proxies", http.get("trusted_proxies", [])),
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
        metrics_allow=_addresses(
            "http.metrics_allow", http.get("metrics_allow", ["127.0.0.1", "::1"])
        ),
    )


def _database_config(env: Mapping[str, str], db: dict[str, Any], data_dir: Path) -> DatabaseConfig:
    url = env.get("LIENTHONG_DATABASE_URL") or db.get("url")
    if not url:
        url = f"sqlite+aiosqlite:///{data_dir / 'lienthong.db'}"
    if not isinstance(url, str) or not (
        url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")
    ):
        raise ConfigError(
            "database.url", "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )
    return DatabaseConfig(url=Secret(url), echo=_bool("database.echo", db.get("echo", False)))


def _auth_config(auth: dict[str, Any]) -> AuthConfig:
    return AuthConfig(
        session_hours=_int("auth.session_hours", auth.get("session_hours", 12), 1, 24 * 30),
        max_failed_logins=_int("auth.max_failed_logins", auth.get("max_failed_logins", 5), 1, 100),
        throttle_minutes=_int("auth.throttle_minutes", auth.get("throttle_minutes", 15), 1, 1440),
    )


def _realtime_config(
    env: Mapping[str, str], rt: dict[str, Any], database: DatabaseConfig
) -> RealtimeConfig:
    backend = _choice(
        "realtime.backend", env.get("LIENTHONG_REALTIME") or rt.get("backend", "memory"), _REALTIME
    )
    if backend == "postgres" and not database.url.reveal().startswith("postgresql"):
        raise ConfigError("realtime.backend", "postgres needs a PostgreSQL database.url")
    redis_url = env.get("LIENTHONG_REDIS_URL") or rt.get("redis_url", "redis://127.0.0.1:6379/0")
    return RealtimeConfig(
        backend=backend,
        redis_url=Secret(str(redis_url)),
        client_queue=_int("realtime.client_queue", rt.get("client_queue", 256), 8, 100_000),
        history=_int("realtime.history", rt.get("history", 1024), 16, 1_000_000),
    )


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (if any) and the environment, check every value, return a Config.

    Each section has its own reader below; every bad value raises :class:`ConfigError` naming
    its key.
    """
    env = os.environ if env is None else env
    path = path or (Path(env["LIENTHONG_CONFIG"]) if env.get("LIENTHONG_CONFIG") else None)
    raw = _read_toml(path)
    data_dir = Path(env.get("LIENTHONG_DATA_DIR") or raw.get("data_dir") or "./data").resolve()
    http = _http_config(env, _section(raw, "http"))
    database = _database_config(env, _section(raw, "database"), data_dir)
    realtime = _realtime_config(env, _section(raw, "realtime"), database)
    log_level = _choice(
        "log_level",
        (env.get("LIENTHONG_LOG_LEVEL") or raw.get("log_level", "INFO")).upper(),
        _LOG_LEVELS,
    )
    return Config(
        data_dir=data_dir,
        http=http,
        database=database,
        auth=_auth_config(_section(raw, "auth")),
        realtime=realtime,
        log_level=log_level,
        demo=_bool("demo", env.get("LIENTHONG_DEMO", raw.get("demo", False))),
    )
