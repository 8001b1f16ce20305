"""`jocker explain CONTAINER`: what the engine did for a running container, in the kernel's terms.

Reads GET /jocker/containers/{id}/explain (a jocker extension, see docs/api-coverage.md): the OCI
bundle summarized, namespaces with their inodes, cgroup directories and the limit files in force,
the rootfs overlay and the other mounts, the process's capabilities, and a shell script that
builds an equivalent container by hand (`--steps` prints only that script).
"""

from __future__ import annotations

import sys

USAGE = "[OPTIONS] CONTAINER"
ARGS = (1, 1)
HELP_EXTRA = """Everything shown is read from the daemon and from /proc of the container's init, not a template:
the bundle's config.json, /proc/PID/ns/*, /proc/PID/cgroup and the cgroup files, /proc/PID/mountinfo.

  jocker explain web                 # the whole report
  jocker explain --steps web > b.sh  # the manual steps only; `sh b.sh` builds a copy by hand
  jocker explain -f '{{json .Cgroups}}' web"""  # noqa: E501


def add_arguments(parser) -> None:
    parser.add_argument("-f", "--format", default="", metavar="string",
                        help="Format output using a custom template ('json' prints the report as JSON)")  # fmt: skip  # noqa: E501
    parser.add_argument("--steps", action="store_true", help="Print only the manual steps (a shell script)")


def _section(out, title: str) -> None:
    out.write(f"\n{title}\n")


def render(report: dict, out) -> None:
    from jocker_cli.output import tabwrite

    bundle = report.get("Bundle") or {}
    out.write(f"Container {report['Name']} ({report['Id'][:12]}), image {report['Image']}, "
              f"runtime {report.get('Runtime') or 'default'}, init pid {report['Pid']}\n")  # fmt: skip
    _section(out, f"OCI bundle: {bundle.get('Config')} (ociVersion {bundle.get('OciVersion')})")
    user = bundle.get("User") or {}
    rows = [
        ("process", " ".join(bundle.get("Args") or [])),
        (
            "cwd, user",
            f"{bundle.get('Cwd')}, uid {user.get('uid', 0)} gid {user.get('gid', 0)}"
            f" groups {user.get('additionalGids') or []}",
        ),
        ("terminal", str(bundle.get("Terminal")).lower()),
        ("env", " ".join(bundle.get("Env") or [])),
        ("hostname", bundle.get("Hostname") or ""),
        (
            "root",
            f"{(bundle.get('Root') or {}).get('path', '')}"
            f"{' (read-only)' if (bundle.get('Root') or {}).get('readonly') else ''}",
        ),
        (
            "namespaces",
            " ".join(
                n.get("type", "") + (f"={n['path']}" if n.get("path") else "")
                for n in bundle.get("Namespaces") or []
            ),
        ),
        ("cgroupsPath", bundle.get("CgroupsPath") or ""),
        (
            "resources",
            " ".join(_flatten(bundle.get("Resources") or {}))
            + f" (+{bundle.get('DeviceRules', 0)} device rules)",
        ),
        ("capabilities", " ".join(c.removeprefix("CAP_").lower() for c in bundle.get("Capabilities") or [])),
        ("mounts", ", ".join(f"{m.get('type')} {m.get('destination')}" for m in bundle.get("Mounts") or [])),
        ("masked paths", " ".join(bundle.get("MaskedPaths") or [])),
        ("read-only paths", " ".join(bundle.get("ReadonlyPaths") or [])),
        ("sysctl", " ".join(f"{k}={v}" for k, v in (bundle.get("Sysctl") or {}).items())),
        ("no_new_privs", str(bundle.get("NoNewPrivileges")).lower()),
    ]
    seccomp = bundle.get("Seccomp")
    if seccomp:
        rows.append(("seccomp", f"default {seccomp['DefaultAction']}, {seccomp['Rules']} rules naming "
                                f"{seccomp['Syscalls']} syscalls, {' '.join(seccomp['Architectures'])}"))  # fmt: skip  # noqa: E501
    out.write(tabwrite("".join(f"  {k}:\t{v}\n" for k, v in rows if v), minwidth=0, padding=2))
    _section(out, f"Namespaces (/proc/{report['Pid']}/ns, compared with jockerd's own):")
    lines = "  TYPE\tINODE\tLINK\t\n" + "".join(
        f"  {n['Type']}\t{n['Inode']}\t{n['Link']}\t{'new' if n['New'] else 'shared with jockerd'}\n"
        for n in report.get("Namespaces") or []
    )
    out.write(tabwrite(lines, minwidth=0, padding=2))
    cgroups = report.get("Cgroups") or {}
    _section(out, f"Cgroups (v{cgroups.get('Version')}, /proc/{report['Pid']}/cgroup):")
    out.write(tabwrite("".join(
        f"  {','.join(h['Controllers']) or '(unified)'}\t{h['Path']}\t{h['Directory'] or '(not mounted here)'}\n"  # noqa: E501
        for h in cgroups.get("Hierarchies") or []
    ), minwidth=0, padding=2))  # fmt: skip
    out.write("  limits in force (the cgroup files):\n")
    for item in cgroups.get("Files") or []:
        value = item["Value"].replace("\n", "; ")
        out.write(f"    {item['File']} = {value}\n")
    rootfs = report.get("Rootfs") or {}
    _section(out, f"Rootfs: {rootfs.get('Type')} mounted on / ({rootfs.get('Options')})")
    for layer in rootfs.get("Lowerdir") or []:
        out.write(f"  lowerdir  {layer}\n")
    out.write(f"  upperdir  {rootfs.get('Upperdir')}\n  workdir   {rootfs.get('Workdir')}\n")
    _section(out, f"Mounts (/proc/{report['Pid']}/mountinfo):")
    out.write(tabwrite("  TARGET\tTYPE\tSOURCE\tROOT\tOPTIONS\n" + "".join(
        f"  {m['Target']}\t{m['Type']}\t{m['Source']}\t{m['Root']}\t{m['Options']}"
        f"{',' + m['SuperOptions'] if m['SuperOptions'] else ''}\n"
        for m in report.get("Mounts") or []
    ), minwidth=0, padding=2))  # fmt: skip
    process = report.get("Process") or {}
    caps = process.get("Capabilities") or {}
    _section(out, f"Process (/proc/{report['Pid']}/status):")
    out.write(f"  cmdline      {' '.join(process.get('Cmdline') or [])}\n")
    out.write(f"  uid / gid    {process.get('Uid')} / {process.get('Gid')}\n")
    out.write(f"  seccomp      {process.get('Seccomp')}    no_new_privs {process.get('NoNewPrivs')}\n")
    for name in ("Bounding", "Effective", "Permitted", "Inheritable", "Ambient"):
        shown = " ".join(c.removeprefix("CAP_").lower() for c in caps.get(name) or []) or "(none)"
        out.write(f"  {name.lower():<12} {shown}\n")
    _section(out, f"Manual steps (jocker explain --steps {report['Name']} > build.sh; sh build.sh):")
    out.write(report.get("Steps") or "")


def _flatten(value, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _flatten(v, f"{prefix}{k}.")]
    return [f"{prefix.rstrip('.')}={value}"]


def run(args, client) -> int:
    from jocker_cli.client import CliError
    from jocker_cli.output import expand_format, print_json
    from jocker_cli.template import Template, TemplateError

    report = client.get_json(f"/jocker/containers/{args.positionals[0]}/explain")
    if args.steps:
        sys.stdout.write(report.get("Steps") or "")
    elif args.format == "json":
        print_json(report)
    elif args.format:
        try:
            print(Template(expand_format(args.format)).execute(report))
        except TemplateError as e:
            raise CliError(str(e)) from None
    else:
        render(report, sys.stdout)
    return 0
