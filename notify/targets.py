"""Where deliveries may go: webhook URLs (server-side request forgery checks) and email addresses.

A webhook host must resolve to public addresses only (loopback, private, link-local, multicast and reserved
ranges are refused unless ``allow_loopback``, meant for development). The check runs when the channel is
created (a clear 422), and again at connect time through :class:`PublicResolver` on every request and every
redirect (each redirect is followed by hand and re-validated), so a name that re-binds to a private address
after the first check is still refused.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

MAX_URL = 2048
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


class TargetError(ValueError):
    """A URL or address we will not deliver to; the message says why (safe to show the user)."""


def check_email(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise TargetError("not a valid email address")
    return address


def _address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if allow_loopback:
        return not (ip.is_multicast or ip.is_unspecified)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def check_ip(text: str, allow_loopback: bool) -> None:
    if not _address_allowed(ipaddress.ip_address(text), allow_loopback):
        raise TargetError(f"webhook host resolves to a non-public address {text}")


def check_url(url: str, allow_loopback: bool) -> str:
    """Static checks of a webhook URL: http(s), a host, no credentials, and a literal IP must be public."""
    if len(url) > MAX_URL:
        raise TargetError(f"webhook URL longer than {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetError("webhook URL must be http:// or https://")
    if not parts.hostname:
        raise TargetError("webhook URL has no host")
    if parts.username or parts.password:
        raise TargetError("webhook URL must not carry credentials")
    if port == 0:
        raise TargetError("webhook URL port 0")
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return url
    check_ip(parts.hostname, allow_loopback)
    return url


async def resolve_checked(url: str, allow_loopback: bool) -> None:
    """Channel creation: the host must resolve, and only to allowed addresses."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await PublicResolver(allow_loopback).resolve(host, 0, socket.AF_UNSPEC)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
        raise TargetError(f"webhook host does not resolve: {exc}") from None
    if not infos:
        raise TargetError("webhook host does not resolve")


class PublicResolver(AbstractResolver):
    """aiohttp's resolver, keeping only allowed addresses (the ones the connection then uses)."""

    def __init__(self, allow_loopback: bool) -> None:
        self._inner = DefaultResolver()
        self._allow = allow_loopback

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        infos = await self._inner.resolve(host, port, family)
        allowed = [i for i in infos if _address_allowed(ipaddress.ip_address(i["host"]), self._allow)]
        if not allowed:
            # errno + text: aiohttp shows the strerror in the connection error it raises from this
            raise OSError(errno.EACCES, f"{host} resolves only to non-public addresses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
