"""The contents of a container's /etc/hosts, /etc/hostname and /etc/resolv.conf (pure functions).

dockerd writes its own copies under the container's directory and bind-mounts them; the daemon
writes these texts there (generate.NETWORK_FILES names the files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from jockerd.errors import InvalidParameterError

_LOCAL_NAMESERVER = re.compile(r"^\s*nameserver\s+(127\.\S*|::1)\s*$")
DEFAULT_HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def hosts_content(extra_hosts: Iterable[str] | None, *, host_network: str | None = None) -> str:
    """Docker's default hosts file plus --add-host lines ("name:ip", or "name=ip" as newer CLIs).

    With --network host, dockerd copies the host's /etc/hosts instead (`host_network`).
    """
    text = host_network if host_network is not None else DEFAULT_HOSTS
    for entry in extra_hosts or []:
        name, sep, address = entry.partition("=") if "=" in entry else entry.partition(":")
        if not sep or not name or not address:
            raise InvalidParameterError(f"invalid extra host: {entry}")
        text += f"{address.strip('[]')}\t{name}\n"
    return text


def hostname_content(hostname: str) -> str:
    return hostname + "\n"


def resolv_conf_content(
    host: str,
    *,
    dns: Iterable[str] | None = None,
    search: Iterable[str] | None = None,
    options: Iterable[str] | None = None,
    host_network: bool = False,
) -> str:
    """dockerd's rule: the host's resolv.conf, without loopback nameservers (unreachable from a
    container's own network namespace) unless the container shares the host's network; --dns,
    --dns-search and --dns-option replace the corresponding lines."""
    dns, search, options = list(dns or []), list(search or []), list(options or [])
    lines = []
    for line in host.splitlines():
        stripped = line.strip()
        if dns and stripped.startswith("nameserver"):
            continue
        if search and (stripped.startswith("search") or stripped.startswith("domain")):
            continue
        if options and stripped.startswith("options"):
            continue
        if not host_network and _LOCAL_NAMESERVER.match(line):
            continue
        lines.append(line)
    lines += [f"nameserver {server}" for server in dns]
    if search:
        lines.append("search " + " ".join(search))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines).strip("\n") + "\n"
