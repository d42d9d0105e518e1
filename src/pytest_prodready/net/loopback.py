"""Load, canary requests and health probes go to loopback only, unless the user explicitly allows a remote host.

A load test aimed at the wrong host is a denial-of-service attack, so the
host is resolved and checked before the load generator even starts; every
address it resolves to must be a loopback address.  The same check guards
each socket the load generator opens (see ``load.agent``), which also covers
absolute URLs written into a locustfile, each canary request, and the
wait-for-ready probes; the words of a refusal fit all of them.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ALLOW_OPTION = "--prodready-allow-remote-load"


class RemoteHostError(ValueError):
    """A target (load, canary, probe) that is not on this machine's loopback interface."""


def host_of(url: str) -> str:
    """The host part of a base URL (``http://127.0.0.1:8000`` -> ``127.0.0.1``)."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    if not parts.hostname:
        raise RemoteHostError(f"target {url!r} has no host")
    return parts.hostname


def without_userinfo(url: str) -> str:
    """``http://user:pw@host:8080/x`` -> ``http://host:8080/x``: credentials go to no resolver and no log."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def loopback_addresses(host: str) -> list[str]:
    """Every address ``host`` resolves to, if all of them are loopback; raises otherwise."""
    try:
        addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)})
    except socket.gaierror as exc:
        raise RemoteHostError(f"target host {host!r} does not resolve ({exc.strerror})") from exc
    remote = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback]
    if remote or not addresses:
        raise RemoteHostError(
            f"refusing to connect to {host!r} ({', '.join(remote) or 'no address'}): targets must be "
            f"loopback (127.0.0.1, ::1, localhost); pass {ALLOW_OPTION} to reach a remote host on purpose"
        )
    return addresses


def check_target(url: str, allow_remote: bool = False) -> None:
    """Refuse a non-loopback target before any connection is attempted."""
    host = host_of(url)
    if not allow_remote:
        loopback_addresses(host)


def refuse_remote(address: Any, checked: set[str]) -> None:
    """The connect-time guard: PermissionError for a socket address whose host is not loopback.

    ``checked`` remembers hosts already found to be loopback; non-tuple
    addresses (Unix sockets) are local by nature.
    """
    if not isinstance(address, tuple) or address[0] in checked:
        return
    try:
        loopback_addresses(str(address[0]))
    except RemoteHostError as exc:
        raise PermissionError(str(exc)) from None
    checked.add(address[0])
