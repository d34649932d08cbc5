"""Webhook URL policy, checked when a run is created (the `webhooks.url` block of langgraph.json).

Without a `url` block: any http(s) host except loopback and link-local/reserved ranges, at most
4096 characters. With one: https required and 2048 characters by default, plus the configured
domain and port allow-lists.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from graphport import errors

LOOPBACK_DISABLED = (
    "Loopback webhooks (relative URLs and localhost) are disabled by default. They bypass "
    "authentication via the in-process ASGI transport and can be abused to invoke internal "
    "routes as an unauthenticated caller. Set webhooks.url.disable_loopback to false (in "
    "langgraph.json or via LANGGRAPH_WEBHOOKS) to opt back in \u2014 only do so when you "
    "control the mounted routes."
)
_LOOPBACK_NAMES = {"localhost", "host.docker.internal"}


def _blocked(detail: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(f"Webhook host blocked: {detail}")


def _domain_allowed(host: str, allowed: list[str]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) or host == pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False


def _check_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: dict[str, Any]) -> None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        raise _blocked("blocked IP range")  # ::ffff:a.b.c.d hides an IPv4 address
    if ip.is_loopback and ip.version == 4:
        if policy.get("disable_loopback", True):
            raise _blocked("loopback IP range")
        return
    if ip.is_loopback:  # ::1
        if policy.get("disable_loopback", True):
            raise _blocked("blocked IP range")
        return
    if ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        raise _blocked("blocked IP range")
    if ip.is_private and policy.get("disable_private_ips", False):
        raise _blocked("private IP range")


async def validate_webhook(url: str, webhooks: dict[str, Any]) -> None:
    """Raise the reference's 422 (or 400 for an unparsable URL) when `url` may not be called."""
    configured = isinstance(webhooks.get("url"), dict)
    policy: dict[str, Any] = dict(webhooks.get("url") or {})
    max_len = policy.get("max_url_length", 2048 if configured else 4096)
    if len(url) > max_len:
        raise errors.ValidationFailed("Webhook URL too long")
    parts = urlsplit(url)  # ValueError("Invalid IPv6 URL") becomes a 400
    if not parts.scheme and url.startswith("/"):
        if policy.get("disable_loopback", True):
            raise errors.ValidationFailed(LOOPBACK_DISABLED)
        return
    host = (parts.hostname or "").lower()
    if not host:
        raise errors.ValidationFailed(f"Invalid webhook hostname '{host}'")
    if parts.scheme not in ("http", "https"):
        raise _blocked(f"scheme '{parts.scheme}' not allowed")
    if policy.get("require_https", configured) and parts.scheme != "https":
        raise errors.ValidationFailed("Webhook must use https")
    allowed_domains = policy.get("allowed_domains")
    if allowed_domains and not _domain_allowed(host, allowed_domains):
        raise errors.ValidationFailed("Webhook domain not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed_ports = policy.get("allowed_ports")
    if allowed_ports and port not in allowed_ports:
        raise errors.ValidationFailed(f"Webhook port {port} not allowed")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        if policy.get("disable_loopback", True):
            raise _blocked("localhost address")
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), 5
            )
        except (OSError, TimeoutError):
            raise _blocked("DNS resolution failed") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        _check_ip(ip, policy)
