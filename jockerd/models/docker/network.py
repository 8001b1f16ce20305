"""A container's networking as create takes it and inspect and ps show it (swagger NetworkSettings,
EndpointSettings, EndpointIPAMConfig, NetworkingConfig).

The shapes are dockerd 20.10's (traces 14, 03b): inspect's NetworkSettings still carries the
top-level fields API 1.44 deprecated (`Bridge`, `SandboxID`, `IPAddress`, ...), and an endpoint has
no `GwPriority` or `DNSNames`. Clients (CLI 28) send those two in create; they are kept as extras,
so they echo back as sent.
"""

from __future__ import annotations

from pydantic import Field

from jockerd.models.base import DockerModel
from jockerd.models.docker.host_config import InboundModel, PortMap, omit_empty


class EndpointIPAMConfig(InboundModel):
    """Static addresses asked for on one network."""

    ipv4_address: str = omit_empty("", alias="IPv4Address")
    ipv6_address: str = omit_empty("", alias="IPv6Address")
    link_local_ips: list[str] = omit_empty(default_factory=list, alias="LinkLocalIPs")


class EndpointSettings(InboundModel):
    """A container's endpoint on one network: asked for in create, filled in by the daemon."""

    ipam_config: EndpointIPAMConfig | None = Field(None, alias="IPAMConfig")
    links: list[str] | None = None
    aliases: list[str] | None = None
    network_id: str = Field("", alias="NetworkID")
    endpoint_id: str = Field("", alias="EndpointID")
    gateway: str = ""
    ip_address: str = Field("", alias="IPAddress")
    ip_prefix_len: int = Field(0, alias="IPPrefixLen")
    ipv6_gateway: str = Field("", alias="IPv6Gateway")
    global_ipv6_address: str = Field("", alias="GlobalIPv6Address")
    global_ipv6_prefix_len: int = Field(0, alias="GlobalIPv6PrefixLen")
    mac_address: str = ""
    driver_opts: dict[str, str] | None = None


class NetworkingConfig(InboundModel):
    """The `NetworkingConfig` of a create body: endpoint settings per network name."""

    endpoints_config: dict[str, EndpointSettings | None] = Field(default_factory=dict)


class Address(DockerModel):
    """An address and its prefix length."""

    addr: str = ""
    prefix_len: int = 0


class NetworkSettings(DockerModel):
    """inspect's `NetworkSettings`, with the deprecated top-level fields dockerd 20.10 sends."""

    bridge: str = ""
    sandbox_id: str = Field("", alias="SandboxID")
    hairpin_mode: bool = False
    link_local_ipv6_address: str = Field("", alias="LinkLocalIPv6Address")
    link_local_ipv6_prefix_len: int = Field(0, alias="LinkLocalIPv6PrefixLen")
    ports: PortMap = Field(default_factory=dict)
    sandbox_key: str = ""
    secondary_ip_addresses: list[Address] | None = Field(None, alias="SecondaryIPAddresses")
    secondary_ipv6_addresses: list[Address] | None = Field(None, alias="SecondaryIPv6Addresses")
    endpoint_id: str = Field("", alias="EndpointID")
    gateway: str = ""
    global_ipv6_address: str = Field("", alias="GlobalIPv6Address")
    global_ipv6_prefix_len: int = Field(0, alias="GlobalIPv6PrefixLen")
    ip_address: str = Field("", alias="IPAddress")
    ip_prefix_len: int = Field(0, alias="IPPrefixLen")
    ipv6_gateway: str = Field("", alias="IPv6Gateway")
    mac_address: str = ""
    networks: dict[str, EndpointSettings] = Field(default_factory=dict)


class NetworkSettingsSummary(DockerModel):
    """The `NetworkSettings` of a ps entry: only the endpoints (inline in swagger ContainerSummary)."""

    networks: dict[str, EndpointSettings] = Field(default_factory=dict)
