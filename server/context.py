"""Per-call context shared by interceptors and handlers."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from typing import Any

from server.domain.models import Caller, Principal

principal_var: ContextVar[Principal | None] = ContextVar("principal", default=None)
request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# The raw bearer token of a candidate method (CandidateService): verified by the use-case
# against candidate_tokens, never as a staff JWT.
candidate_token_var: ContextVar[str] = ContextVar("candidate_token", default="")
# The call's servicer context; metadata and peer are read from it lazily, since only sign-in
# and audited calls need the client address.
call_var: ContextVar[Any] = ContextVar("call", default=None)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_PROXIES: list[Network] = [ipaddress.ip_network("127.0.0.1/32"),
                                  ipaddress.ip_network("::1/128")]


def set_trusted_proxies(spec: str) -> None:
    """Comma-separated addresses or networks (CIDR) whose x-forwarded-for is believed."""
    TRUSTED_PROXIES[:] = [ipaddress.ip_network(p.strip(), strict=False)
                          for p in spec.split(",") if p.strip()]


def _trusted(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in TRUSTED_PROXIES)


def current_principal() -> Principal:
    """The authenticated caller; the auth interceptor guarantees it on non-public methods."""
    principal = principal_var.get()
    if principal is None:
        from server.domain.errors import Unauthenticated

        raise Unauthenticated("authentication required")
    return principal


def _peer_ip(peer: str) -> str:
    # "ipv4:127.0.0.1:5432", "ipv6:[::1]:5432", "unix:/path"
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rsplit(":", 1)[0]
    if kind == "ipv6":
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer


def client_address() -> str:
    """The client's IP: the peer, or, when the peer is a trusted proxy (Envoy), the address that
    proxy appended last to x-forwarded-for (Envoy runs with use_remote_address)."""
    call = call_var.get()
    if call is None:
        return ""
    metadata = call.invocation_metadata() or ()
    ip = _peer_ip(call.peer())
    if _trusted(ip):
        for key, value in metadata:
            if key == "x-forwarded-for" and isinstance(value, str):
                candidate = value.split(",")[-1].strip()
                try:
                    return str(ipaddress.ip_address(candidate))
                except ValueError:
                    break
    return ip


def caller() -> Caller:
    return Caller(principal=principal_var.get(), request_id=request_id_var.get(),
                  client_address=client_address())
