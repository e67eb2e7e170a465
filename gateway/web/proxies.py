"""Who is calling: forwarded headers are believed from `app.trusted_proxies` only.

Behind a reverse proxy every request comes from the proxy's address. `TrustedProxies` rewrites
`REMOTE_ADDR` (and the scheme) from `X-Forwarded-For`/`-Proto`, but only when the immediate
peer is a trusted proxy; from anyone else those headers are ignored, so a caller cannot
choose the address the metrics allowlist and the Africa's Talking network check see.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from werkzeug.wrappers import Response

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
RESOLVED = "ors.forwarded_resolved"  # environ key: the client address came from a trusted proxy
FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED")


@lru_cache(maxsize=16)
def networks(texts: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    """Parse the settings' canonical network texts once per distinct tuple."""
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


def address(text: str | None) -> IpAddress | None:
    """The IP address in `text`, IPv4-mapped IPv6 unwrapped; None when it is not one."""
    try:
        ip = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def within(ip: IpAddress | None, nets: Iterable[IpNetwork]) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in nets)


class TrustedProxies:
    """WSGI middleware: take the client address and scheme from a trusted proxy's headers."""

    def __init__(self, app: Any, trusted: tuple[str, ...]):
        self.app = app
        self.trusted = networks(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if within(address(environ.get("REMOTE_ADDR")), self.trusted):
            forwarded = environ.get("HTTP_X_FORWARDED_FOR")
            if forwarded:
                client = self.client(forwarded)
                if client is None:  # proxies write addresses; anything else is not believed
                    return Response("bad forwarded header", 400)(environ, start_response)
                environ["REMOTE_ADDR"], environ[RESOLVED] = client, True
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)

    def client(self, header: str) -> str | None:
        """The rightmost address that is not a trusted proxy (each proxy appends its peer)."""
        hops = [address(part) for part in header.split(",")]
        for hop in reversed(hops):
            if hop is None:
                return None
            if not within(hop, self.trusted):
                return str(hop)
        return str(hops[0])  # every hop is one of ours: the first one is the caller


def is_loopback_caller(environ: Mapping[str, Any]) -> bool:
    """True for a caller on this machine: a loopback address not speaking for someone else.

    A loopback peer that sends forwarding headers without being a trusted proxy is a local
    reverse proxy nobody configured; what it forwards is the public, so it is not local.
    """
    ip = address(environ.get("REMOTE_ADDR"))
    if ip is None or not ip.is_loopback:
        return False
    return bool(environ.get(RESOLVED)) or not any(h in environ for h in FORWARDING_HEADERS)
