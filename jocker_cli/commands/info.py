"""`jocker info`: GET /info printed in docker's layout (prettyPrintServerInfo), or --format."""

from __future__ import annotations

import sys

from jocker_cli.client import CliError

USAGE = "[OPTIONS]"
ARGS = (0, 0)


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template:\n'json':             Print in JSON format\n"  # noqa: E501
                             "'TEMPLATE':         Print output using the given Go template")  # fmt: skip


def server_lines(info: dict) -> list[str]:
    from jocker_cli.output import bytes_size

    lines = ["Server:"]
    add = lines.append
    add(f" Containers: {info.get('Containers', 0)}")
    add(f"  Running: {info.get('ContainersRunning', 0)}")
    add(f"  Paused: {info.get('ContainersPaused', 0)}")
    add(f"  Stopped: {info.get('ContainersStopped', 0)}")
    add(f" Images: {info.get('Images', 0)}")
    add(f" Server Version: {info.get('ServerVersion', '')}")
    add(f" Storage Driver: {info.get('Driver', '')}")
    for pair in info.get("DriverStatus") or []:
        if len(pair) == 2:
            add(f"  {pair[0]}: {pair[1]}")
    for pair in info.get("SystemStatus") or []:
        if len(pair) == 2:
            add(f" {pair[0]}: {pair[1]}")
    add(f" Logging Driver: {info.get('LoggingDriver', '')}")
    add(f" Cgroup Driver: {info.get('CgroupDriver', '')}")
    add(f" Cgroup Version: {info.get('CgroupVersion', '')}")
    plugins = info.get("Plugins") or {}
    add(" Plugins:")
    add(f"  Volume: {' '.join(plugins.get('Volume') or [])}")
    add(f"  Network: {' '.join(plugins.get('Network') or [])}")
    if plugins.get("Authorization"):
        add(f"  Authorization: {' '.join(plugins['Authorization'])}")
    add(f"  Log: {' '.join(plugins.get('Log') or [])}")
    if info.get("CDISpecDirs"):
        add(" CDI spec directories:")
        lines.extend(f"  {d}" for d in info["CDISpecDirs"])
    add(f" Swarm: {(info.get('Swarm') or {}).get('LocalNodeState', '')}")
    runtimes = sorted((info.get("Runtimes") or {}).keys())
    if runtimes:
        add(f" Runtimes: {' '.join(runtimes)}")
        add(f" Default Runtime: {info.get('DefaultRuntime', '')}")
    if info.get("OSType") == "linux":
        add(f" Init Binary: {info.get('InitBinary', '')}")
        for label, key in (
            ("containerd", "ContainerdCommit"),
            ("runc", "RuncCommit"),
            ("init", "InitCommit"),
        ):
            add(f" {label} version: {(info.get(key) or {}).get('ID', '')}")
        options = info.get("SecurityOptions") or []
        if options:
            add(" Security Options:")
            for option in options:
                fields = dict(kv.split("=", 1) for kv in option.split(",") if "=" in kv)
                add(f"  {fields.get('name', option)}")
                for key, value in fields.items():
                    if key != "name":
                        add(f"   {key[:1].upper() + key[1:]}: {value}")
        add(f" Kernel Version: {info.get('KernelVersion', '')}")
    add(f" Operating System: {info.get('OperatingSystem', '')}")
    add(f" OSType: {info.get('OSType', '')}")
    add(f" Architecture: {info.get('Architecture', '')}")
    add(f" CPUs: {info.get('NCPU', 0)}")
    add(f" Total Memory: {bytes_size(info.get('MemTotal') or 0)}")
    add(f" Name: {info.get('Name', '')}")
    add(f" ID: {info.get('ID', '')}")
    add(f" Docker Root Dir: {info.get('DockerRootDir', '')}")
    add(f" Debug Mode: {str(bool(info.get('Debug'))).lower()}")
    for label, key in (("HTTP Proxy", "HttpProxy"), ("HTTPS Proxy", "HttpsProxy"), ("No Proxy", "NoProxy")):
        if info.get(key):
            add(f" {label}: {info[key]}")
    labels = info.get("Labels") or []
    if labels:
        add(" Labels:")
        lines.extend(f"  {label}" for label in labels)
    add(f" Experimental: {str(bool(info.get('ExperimentalBuild'))).lower()}")
    registry = info.get("RegistryConfig") or {}
    indexes = registry.get("IndexConfigs") or {}
    cidrs = registry.get("InsecureRegistryCIDRs") or []
    if cidrs or indexes:
        add(" Insecure Registries:")
        lines.extend(f"  {name}" for name, index in indexes.items() if not index.get("Secure"))
        lines.extend(f"  {cidr}" for cidr in cidrs)
    mirrors = registry.get("Mirrors") or []
    if mirrors:
        add(" Registry Mirrors:")
        lines.extend(f"  {m}" for m in mirrors)
    add(f" Live Restore Enabled: {str(bool(info.get('LiveRestoreEnabled'))).lower()}")
    if info.get("ProductLicense"):
        add(f" Product License: {info['ProductLicense']}")
    return lines


def run(args, client) -> int:
    from jocker_cli.commands.version import CLIENT_VERSION
    from jocker_cli.output import expand_format, print_json

    error = None
    info = None
    try:
        info = client.get_json("/info")
    except CliError as e:
        error = e
    if args.format:
        if info is None:
            raise error  # type: ignore[misc]
        if args.format == "json":
            print_json(info)
            return 0
        from jocker_cli.template import Template, TemplateError

        try:
            print(Template(expand_format(args.format)).execute(info))
        except TemplateError as e:
            raise CliError(str(e)) from None
        return 0
    out = sys.stdout
    out.write(f"Client: jocker\n Version:    {CLIENT_VERSION}\n Context:    default\n Debug Mode: false\n\n")
    if info is None:
        raise error  # type: ignore[misc]
    out.write("\n".join(server_lines(info)) + "\n\n")
    for warning in info.get("Warnings") or []:
        print(warning, file=sys.stderr)
    return 0
