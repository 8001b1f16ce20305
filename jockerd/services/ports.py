"""Published ports in Docker's shapes (pure functions): HostConfig.PortBindings checked at create,
the bindings handed to the shim's proxy at start (jockerd/shim/ports.py), NetworkSettings.Ports
for inspect, ps's Ports, and ps's `publish`/`expose` filters (moby daemon/list.go portOp).

Port keys are go-connections/nat's: `80/tcp`, `53/udp` (no protocol means tcp); a HostPort is
"" (any port), "8080", or a range "8000-8010" (the first free one).
"""

from __future__ import annotations

from typing import Any

from jockerd.errors import InvalidParameterError

PUBLISHING_MODES = ("default", "bridge")  # the network modes whose ports the proxy publishes
HOST_MODE_WARNING = "Published ports are discarded when using host network mode"
# How the shim's proxy words a port it cannot bind (libnetwork's bridge driver's error).
PROXY_ERROR_PREFIX = "driver failed programming external connectivity on endpoint "


def split_proto_port(text: str) -> tuple[str, str]:
    """nat.SplitProtoPort: ("tcp", "80") for "80", (proto, port) for "port/proto"."""
    port, _, proto = text.partition("/")
    return (proto or "tcp").lower(), port


def parse_port_range(text: str) -> tuple[int, int]:
    """nat.ParsePortRange: "80" → (80, 80), "8000-8010" → (8000, 8010); ValueError otherwise."""
    if not text:
        raise ValueError("empty string specified for ports")
    low, sep, high = text.partition("-")
    start = _port_number(low)
    end = _port_number(high) if sep else start
    if end < start:
        raise ValueError(f"invalid range specified for port: {text}")
    return start, end


def _port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f"invalid port: {text}")
    return int(text)


def validate_port_bindings(host: dict[str, Any]) -> None:
    """dockerd's check of PortBindings at create (daemon/container.go validatePortBindings)."""
    for key, bindings in (host.get("PortBindings") or {}).items():
        _, port = split_proto_port(str(key))
        try:
            parse_port_range(port)
        except ValueError:
            raise InvalidParameterError(f'invalid port specification: "{port}"') from None
        for binding in bindings or []:
            host_port = str((binding or {}).get("HostPort") or "")
            if host_port:
                _, number = split_proto_port(host_port)
                try:
                    parse_port_range(number)
                except ValueError:
                    raise InvalidParameterError(f'invalid port specification: "{host_port}"') from None


def publishes(host: dict[str, Any]) -> bool:
    return (host.get("NetworkMode") or "default") in PUBLISHING_MODES


def port_warnings(host: dict[str, Any]) -> list[str]:
    """create's warnings: ports published with --network host go nowhere."""
    if host.get("NetworkMode") == "host" and host.get("PortBindings"):
        return [HOST_MODE_WARNING]
    return []


def _sort_key(key: str) -> tuple[int, str]:
    proto, port = split_proto_port(key)
    try:
        return parse_port_range(port)[0], proto
    except ValueError:
        return 0, key


def container_ports(config: dict[str, Any], host: dict[str, Any]) -> list[str]:
    """The container's ports: ExposedPorts (the image's too) and PortBindings' keys, sorted."""
    keys = {*(config.get("ExposedPorts") or {}), *(host.get("PortBindings") or {})}
    return sorted((normalize_key(k) for k in keys), key=_sort_key)


def normalize_key(key: str) -> str:
    proto, port = split_proto_port(str(key))
    return f"{port}/{proto}"


def proxy_bindings(config: dict[str, Any], host: dict[str, Any]) -> list[dict[str, Any]]:
    """What the shim's proxy listens on: each binding of each port, and with PublishAllPorts an
    ephemeral one for every exposed port without a binding (moby's buildCreateEndpointOptions)."""
    if not publishes(host):
        return []
    given = {normalize_key(k): v for k, v in (host.get("PortBindings") or {}).items()}
    out = []
    for key in container_ports(config, host):
        proto, port = split_proto_port(key)
        try:
            container_port, _ = parse_port_range(port)
        except ValueError:
            continue
        bindings = list(given.get(key) or [])
        if not bindings and host.get("PublishAllPorts"):
            bindings = [{"HostIp": "", "HostPort": ""}]
        for binding in bindings:
            binding = binding or {}
            host_port = str(binding.get("HostPort") or "")
            first, last = parse_port_range(split_proto_port(host_port)[1]) if host_port else (0, 0)
            out.append({
                "proto": proto, "host_ip": str(binding.get("HostIp") or ""),
                "host_port": first, "host_port_end": last, "container_port": container_port,
            })  # fmt: skip
    return out


def network_ports(
    config: dict[str, Any], host: dict[str, Any], published: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """NetworkSettings.Ports: every port of a running container, with its host bindings (null
    for one exposed but not published); {} when the container is not running (`published` is
    None) or its network mode publishes nothing."""
    if published is None or not publishes(host):
        return {}
    out: dict[str, Any] = {key: None for key in container_ports(config, host)}
    for binding in published:
        key = f"{binding['container_port']}/{binding['proto']}"
        entry = {"HostIp": binding["host_ip"], "HostPort": str(binding["host_port"])}
        if out.get(key) is None:
            out[key] = []
        out[key].append(entry)
    return dict(sorted(out.items()))


def summary_ports(ports: dict[str, Any]) -> list[dict[str, Any]]:
    """ps's Ports from NetworkSettings.Ports (moby's transformContainer)."""
    out: list[dict[str, Any]] = []
    for key, bindings in ports.items():
        proto, port = split_proto_port(key)
        private = int(port)
        if not bindings:
            out.append({"PrivatePort": private, "Type": proto})
            continue
        for binding in bindings:
            public = int(binding.get("HostPort") or 0)
            ip = binding.get("HostIp", "")
            out.append({"IP": ip, "PrivatePort": private, "PublicPort": public, "Type": proto})
    return out


def parse_port_filter(key: str, values: list[str]) -> set[str]:
    """ps's `publish`/`expose` filter values as a set of `port/proto` (moby's portOp)."""
    ports: set[str] = set()
    for value in values:
        if ":" in value:
            raise InvalidParameterError(f"filter for '{key}' should not contain ':': {value}")
        proto, port = split_proto_port(value)
        try:
            start, end = parse_port_range(port)
        except ValueError as e:
            raise InvalidParameterError(f"error while looking up for {key} {port}: {e}") from None
        ports.update(f"{number}/{proto}" for number in range(start, end + 1))
    return ports


def ports_match(summary: list[dict[str, Any]], publish: set[str], expose: set[str]) -> bool:
    """Whether a ps entry passes the publish and expose filters (either one matching is enough)."""
    if not publish and not expose:
        return True
    for port in summary:
        if f"{port.get('PublicPort', 0)}/{port['Type']}" in publish:
            return True
        if f"{port['PrivatePort']}/{port['Type']}" in expose:
            return True
    return False
