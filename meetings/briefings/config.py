"""Settings of the media plane, from ``LIENTHONG_BRIEFINGS_*`` environment variables, checked at load."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from server.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BriefingsConfig:
    ice_addresses: tuple[str, ...] = ()
    """``LIENTHONG_BRIEFINGS_ICE_ADDRESSES``: comma-separated IPs to gather ICE candidates on.

    Empty: every interface but loopback (aioice's choice).  Set it to the public address of a
    media node, or to ``127.0.0.1`` for tests on one machine.
    """
    upstream_nodes: tuple[str, ...] = ()
    """``LIENTHONG_BRIEFINGS_UPSTREAM_NODES``: comma-separated base URLs of the nodes above this one
    in the administrative tree (``https://hop.tinh.example.vn``); a cascade link may only go to
    these.  An entry without a port admits any port of that host."""
    last_n: int = 4
    """``LIENTHONG_BRIEFINGS_LAST_N``: endpoint videos each subscriber may get besides the chair
    (the browser client asks for ``1 + last_n`` video slots)."""
    workers: int = 1
    """``LIENTHONG_BRIEFINGS_WORKERS``: media worker processes, a number or ``auto`` (one per
    core).  1 (the default): the app's own process carries all media, as on a small node."""
    pipe_host: str = "127.0.0.1"
    """``LIENTHONG_BRIEFINGS_PIPE_HOST``: the IP the media workers' pipe sockets bind to and
    announce to the other app processes (docs/deploy.md).  Loopback suits app processes on one
    machine; across machines, an address on the private network between them (the pipe carries
    plain RTP: never a public one)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BriefingsConfig:
        env = os.environ if env is None else env
        raw = env.get("LIENTHONG_BRIEFINGS_ICE_ADDRESSES", "").strip()
        addresses = tuple(a.strip() for a in raw.split(",") if a.strip())
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigError(
                    "LIENTHONG_BRIEFINGS_ICE_ADDRESSES", f"{address!r} is not an IP address"
                ) from None
        last_n_raw = env.get("LIENTHONG_BRIEFINGS_LAST_N", "4")
        if not last_n_raw.isdigit() or not 0 <= int(last_n_raw) <= 24:
            raise ConfigError("LIENTHONG_BRIEFINGS_LAST_N", "must be a whole number 0–24")
        workers_raw = env.get("LIENTHONG_BRIEFINGS_WORKERS", "1").strip().lower()
        if workers_raw == "auto":
            workers_raw = str(os.cpu_count() or 1)
        if not workers_raw.isdigit() or not 1 <= int(workers_raw) <= 256:
            raise ConfigError("LIENTHONG_BRIEFINGS_WORKERS", "must be auto or a number 1–256")
        nodes = tuple(
            n.strip().rstrip("/")
            for n in env.get("LIENTHONG_BRIEFINGS_UPSTREAM_NODES", "").split(",")
            if n.strip()
        )
        for node in nodes:
            parts = urlsplit(node)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError("LIENTHONG_BRIEFINGS_UPSTREAM_NODES", f"{node!r} is not a URL")
        pipe_host = env.get("LIENTHONG_BRIEFINGS_PIPE_HOST", "127.0.0.1").strip()
        try:
            pipe_ip = ipaddress.IPv4Address(pipe_host)
        except ValueError:
            raise ConfigError(
                "LIENTHONG_BRIEFINGS_PIPE_HOST", f"{pipe_host!r} is not an IPv4 address"
            ) from None
        if pipe_ip.is_unspecified:
            raise ConfigError("LIENTHONG_BRIEFINGS_PIPE_HOST", "name one address, not 0.0.0.0")
        return cls(
            pipe_host=pipe_host,
            ice_addresses=addresses,
            upstream_nodes=nodes,
            last_n=int(last_n_raw),
            workers=int(workers_raw),
        )

    def upstream_allowed(self, url: str) -> bool:
        """True when ``url`` is on one of the configured upstream nodes."""
        wanted = urlsplit(url)
        for node in self.upstream_nodes:
            allowed = urlsplit(node)
            if (allowed.scheme, allowed.hostname) != (wanted.scheme, wanted.hostname):
                continue
            if allowed.port is None or allowed.port == wanted.port:
                return True
        return False
