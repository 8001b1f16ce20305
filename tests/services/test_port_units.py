"""Published ports in Docker's shapes, without a daemon: services/ports.py and the CLI's parts
(`-p` parsing, `docker port` lines, ps's PORTS text), checked against traces 48/49/49b."""

from __future__ import annotations

import pytest

from jocker_cli.commands.port import natural_key, port_lines
from jocker_cli.commands.ps import displayable_ports
from jocker_cli.runopts import parse_ports
from jockerd.errors import InvalidParameterError
from jockerd.services import ports

# trace 48: docker run -p 127.0.0.1:8080:80 -p 9090 -p 127.0.0.1:5353:53/udp
TRACE_BINDINGS = {
    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
    "9090/tcp": [{"HostIp": "", "HostPort": ""}],
}
TRACE_EXPOSED = {"53/udp": {}, "80/tcp": {}, "9090/tcp": {}}
TRACE_PORTS = {
    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
    "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
    "9090/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32769"}, {"HostIp": "::", "HostPort": "32769"}],
}
PUBLISHED = [
    {"proto": "udp", "host_ip": "127.0.0.1", "host_port": 5353, "container_port": 53},
    {"proto": "tcp", "host_ip": "127.0.0.1", "host_port": 8080, "container_port": 80},
    {"proto": "tcp", "host_ip": "0.0.0.0", "host_port": 32769, "container_port": 9090},
    {"proto": "tcp", "host_ip": "::", "host_port": 32769, "container_port": 9090},
]


def test_cli_parses_the_trace_flags_as_docker_sends_them() -> None:
    exposed, bindings = parse_ports(["127.0.0.1:8080:80", "9090", "127.0.0.1:5353:53/udp"], [])
    assert exposed == TRACE_EXPOSED
    assert bindings == TRACE_BINDINGS


def test_cli_parses_ranges_and_ipv6() -> None:
    _, bindings = parse_ports(["8000-8001:80-81", "[::1]:9000:90"], [])
    assert bindings["80/tcp"] == [{"HostIp": "", "HostPort": "8000"}]
    assert bindings["81/tcp"] == [{"HostIp": "", "HostPort": "8001"}]
    assert bindings["90/tcp"] == [{"HostIp": "::1", "HostPort": "9000"}]


def test_proxy_bindings() -> None:
    host = {"NetworkMode": "default", "PortBindings": TRACE_BINDINGS}
    assert ports.proxy_bindings({"ExposedPorts": TRACE_EXPOSED}, host) == [
        {
            "proto": "udp",
            "host_ip": "127.0.0.1",
            "host_port": 5353,
            "host_port_end": 5353,
            "container_port": 53,
        },
        {
            "proto": "tcp",
            "host_ip": "127.0.0.1",
            "host_port": 8080,
            "host_port_end": 8080,
            "container_port": 80,
        },
        {"proto": "tcp", "host_ip": "", "host_port": 0, "host_port_end": 0, "container_port": 9090},
    ]
    ranged = {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}]}}
    assert ports.proxy_bindings({}, ranged)[0]["host_port_end"] == 8010
    # -P: every exposed port without a binding gets an ephemeral one; an exposed port alone gets none
    everything = {"PublishAllPorts": True, "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "81"}]}}
    assert [(b["container_port"], b["host_port"]) for b in ports.proxy_bindings(
        {"ExposedPorts": {"80/tcp": {}, "7/udp": {}}}, everything
    )] == [(7, 0), (80, 81)]  # fmt: skip
    assert ports.proxy_bindings({"ExposedPorts": {"80/tcp": {}}}, {}) == []
    for mode in ("host", "none", "container:abc"):
        assert ports.proxy_bindings({}, {"NetworkMode": mode, "PortBindings": TRACE_BINDINGS}) == []


def test_network_ports_while_running_and_not() -> None:
    config, host = {"ExposedPorts": {**TRACE_EXPOSED, "7/tcp": {}}}, {"PortBindings": TRACE_BINDINGS}
    assert ports.network_ports(config, host, PUBLISHED) == {**TRACE_PORTS, "7/tcp": None}
    assert list(ports.network_ports(config, host, PUBLISHED)) == ["53/udp", "7/tcp", "80/tcp", "9090/tcp"]
    assert ports.network_ports(config, host, None) == {}  # not running
    assert ports.network_ports(config, {**host, "NetworkMode": "host"}, []) == {}


def test_summary_ports_and_ps_text() -> None:
    summary = ports.summary_ports({**TRACE_PORTS, "7/tcp": None})
    assert {"PrivatePort": 7, "Type": "tcp"} in summary
    assert {"IP": "::", "PrivatePort": 9090, "PublicPort": 32769, "Type": "tcp"} in summary
    # what docker 28.2.2 prints for these (seen in tests/compat/test_ports.py)
    assert displayable_ports(summary) == (
        "7/tcp, 127.0.0.1:5353->53/udp, 127.0.0.1:8080->80/tcp, 0.0.0.0:32769->9090/tcp, [::]:32769->9090/tcp"
    )
    same = ports.summary_ports({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}], "81/tcp": None})
    assert displayable_ports(same) == "0.0.0.0:80->80/tcp, 81/tcp"


def test_docker_port_lines() -> None:
    assert port_lines(TRACE_PORTS, "jtr-p") == [  # trace 49
        "53/udp -> 127.0.0.1:5353",
        "80/tcp -> 127.0.0.1:8080",
        "9090/tcp -> 0.0.0.0:32769",
        "9090/tcp -> [::]:32769",
    ]
    assert port_lines(TRACE_PORTS, "jtr-p", "80/tcp") == ["127.0.0.1:8080"]  # trace 49b
    assert port_lines(TRACE_PORTS, "jtr-p", "9090") == ["0.0.0.0:32769", "[::]:32769"]
    with pytest.raises(Exception, match="No public port '81/tcp' published for jtr-p"):
        port_lines(TRACE_PORTS, "jtr-p", "81/tcp")
    assert sorted(["9/tcp", "10/tcp", "1/tcp"], key=natural_key) == ["1/tcp", "9/tcp", "10/tcp"]


def test_port_filters() -> None:
    summary = ports.summary_ports(TRACE_PORTS)
    assert ports.ports_match(summary, ports.parse_port_filter("publish", ["8080"]), set())
    assert ports.ports_match(summary, ports.parse_port_filter("publish", ["32760-32770/tcp"]), set())
    assert not ports.ports_match(summary, ports.parse_port_filter("publish", ["80"]), set())
    assert ports.ports_match(summary, set(), ports.parse_port_filter("expose", ["53/udp"]))
    assert not ports.ports_match(summary, set(), ports.parse_port_filter("expose", ["53"]))
    assert ports.ports_match([], set(), set())
    with pytest.raises(InvalidParameterError, match="should not contain ':'"):
        ports.parse_port_filter("publish", ["127.0.0.1:80"])


@pytest.mark.parametrize(
    ("bindings", "message"),
    [
        ({"x/tcp": []}, 'invalid port specification: "x"'),
        ({"80/tcp": [{"HostPort": "99999"}]}, 'invalid port specification: "99999"'),
        ({"80/tcp": [{"HostPort": "9-1"}]}, 'invalid port specification: "9-1"'),
    ],
)
def test_validate_port_bindings(bindings: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError) as e:
        ports.validate_port_bindings({"PortBindings": bindings})
    assert str(e.value) == message
    ports.validate_port_bindings({"PortBindings": TRACE_BINDINGS})


def test_host_mode_warning() -> None:
    assert ports.port_warnings({"NetworkMode": "host", "PortBindings": TRACE_BINDINGS}) == [
        "Published ports are discarded when using host network mode"
    ]
    assert ports.port_warnings({"NetworkMode": "none", "PortBindings": TRACE_BINDINGS}) == []
