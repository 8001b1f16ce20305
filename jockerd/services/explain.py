"""ExplainService: what the engine did for one container, in the kernel's terms (`jocker explain`).

Everything is read, none of it is templated: the bundle's config.json under
exec_root/bundles/<id>/, the init's /proc/<pid>/ns/* inodes (compared with the daemon's own),
/proc/<pid>/cgroup resolved against the cgroup mounts to real directories and the limit files in
force there, /proc/<pid>/mountinfo (the overlay's lowerdir/upperdir/workdir and every other
mount), the device nodes in /proc/<pid>/root/dev and the capability sets in /proc/<pid>/status.

From the same readings it writes a shell script that builds an equivalent container by hand:
cgroup directories with the same limit values (mkdir + echo, what cgcreate/cgset do), a fresh
upper layer over the same image layers, capsh to drop the bounding set, unshare for the
namespaces, the mounts, mknod for the devices, pivot_root, and a last exec through the host's
static busybox (`setpriv` to clear the set-up's inheritable capabilities, `env -i` for the
environment). The script runs the container's command, or its own arguments instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import stat
from pathlib import Path
from typing import Any

from jockerd.bundle.defaults import ALL_CAPABILITIES as CAPABILITIES
from jockerd.errors import ConflictError

CGROUP_ROOT = "/sys/fs/cgroup"
UNLIMITED_V1 = 9223372036854771712
# The limit files worth showing per controller (cgroup v1, then v2).
V1_FILES = {
    "memory": ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
               "memory.swappiness", "memory.oom_control", "memory.usage_in_bytes"),
    "pids": ("pids.max", "pids.current"),
    "cpu": ("cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "cpu.rt_runtime_us"),
    "cpuset": ("cpuset.cpus", "cpuset.mems"),
    "blkio": ("blkio.weight",),
    "freezer": ("freezer.state",),
    "devices": ("devices.list",),
}  # fmt: skip
V2_FILES = ("memory.max", "memory.swap.max", "memory.low", "memory.current", "pids.max", "pids.current",
            "cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.mems", "io.weight", "cgroup.freeze")  # fmt: skip
# Limits the manual steps copy: the file and whether its value means "no limit".
V1_SETTABLE = {
    "memory": ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes"),
    "pids": ("pids.max",),
    "cpu": ("cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares"),
    "blkio": ("blkio.weight",),
}
V1_DEFAULTS = {"cpu.cfs_quota_us": "-1", "cpu.shares": "1024", "pids.max": "max", "cpu.cfs_period_us": "100000",  # noqa: E501
               "blkio.weight": "0"}  # fmt: skip
V2_SETTABLE = (
    "cpu.max",
    "cpu.weight",
    "memory.max",
    "memory.swap.max",
    "memory.low",
    "pids.max",
    "io.weight",
)
V2_DEFAULTS = {"cpu.max": "max 100000", "cpu.weight": "100", "memory.max": "max", "memory.swap.max": "max",
               "memory.low": "0", "pids.max": "max", "io.weight": "default 100"}  # fmt: skip
NAMESPACE_FLAGS = {"mnt": "--mount", "uts": "--uts", "ipc": "--ipc", "net": "--net", "pid": "--pid",
                   "user": "--user", "cgroup": "--cgroup", "time": "--time"}  # fmt: skip
# What the set-up itself needs after the bounding set is dropped: mount/pivot_root/umount and
# sethostname (SYS_ADMIN), mknod (MKNOD), bringing up lo (NET_ADMIN). Kept inheritable until the end.
SETUP_CAPS = ("CAP_SYS_ADMIN", "CAP_MKNOD", "CAP_NET_ADMIN")
PROC_SYS_NET = "net."


def _read(path: str | Path) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def parse_mountinfo(text: str) -> list[dict[str, Any]]:
    """proc(5) mountinfo lines as dicts (octal escapes in paths decoded)."""
    mounts = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 6:
            continue
        fstype, source, *rest = right.split()
        mounts.append(
            {
                "id": int(fields[0]),
                "parent": int(fields[1]),
                "device": fields[2],
                "root": _unescape(fields[3]),
                "target": _unescape(fields[4]),
                "options": fields[5],
                "fstype": fstype,
                "source": _unescape(source),
                "super": rest[0] if rest else "",
            }
        )
    return mounts


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 3 < len(text) and text[i + 1 : i + 4].isdigit():
            out.append(chr(int(text[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def capability_names(mask: int) -> list[str]:
    return [name for bit, name in enumerate(CAPABILITIES) if mask >> bit & 1]


def cgroup_dirs(pid: int) -> list[dict[str, Any]]:
    """Each hierarchy the process is in: controllers, its path there and the real directory."""
    text = _read(f"/proc/{pid}/cgroup") or ""
    own = parse_mountinfo(_read("/proc/self/mountinfo") or "")
    out = []
    for line in text.splitlines():
        number, controllers, path = line.split(":", 2)
        names = [c for c in controllers.split(",") if c]
        directory = None
        for mount in own:
            if (number == "0" and mount["fstype"] == "cgroup2") or (
                mount["fstype"] == "cgroup" and names and set(names) <= set(mount["super"].split(","))
            ):
                pass
            else:
                continue
            root = mount["root"]
            if path == root or path.startswith(root.rstrip("/") + "/"):
                directory = mount["target"] + path[len(root.rstrip("/")) :]
                break
        out.append({"Hierarchy": int(number), "Controllers": names, "Path": path, "Directory": directory,
                    "Version": 2 if number == "0" else 1})  # fmt: skip
    return out


class ExplainService:
    def __init__(self, containers: Any) -> None:
        self.containers = containers

    async def explain(self, ref: str) -> dict[str, Any]:
        container = self.containers.get(ref)
        record = container.record
        shim = container.shim
        pid = 0
        if shim is not None:
            try:
                pid = shim.pid
            except Exception:
                pid = 0
        pid = pid or record.state.pid
        if not pid or record.state.status not in ("running", "paused"):
            raise ConflictError(f"container {record.id} is not running: explain reads its live processes")
        bundle = Path(self.containers.exec_root) / "bundles" / record.id
        return await asyncio.to_thread(explain_process, record, pid, bundle)


def explain_process(record: Any, pid: int, bundle: Path) -> dict[str, Any]:
    spec = json.loads((bundle / "config.json").read_text())
    status = _status(pid)
    mountinfo = parse_mountinfo(_read(f"/proc/{pid}/mountinfo") or "")
    report: dict[str, Any] = {
        "Id": record.id,
        "Name": record.name.lstrip("/"),
        "Image": record.image_name,
        "Runtime": record.runtime,
        "Pid": pid,
        "Bundle": summarize_spec(spec, bundle),
        "Namespaces": namespaces(pid),
        "Cgroups": cgroups(pid),
        "Process": status,
        "Rootfs": rootfs(mountinfo),
        "Mounts": [_mount_view(m) for m in mountinfo],
        "Devices": devices(pid),
    }
    report["Steps"] = manual_steps(record, spec, report, mountinfo)
    return report


def _status(pid: int) -> dict[str, Any]:
    fields = {}
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    caps = {name: capability_names(int(fields.get(key, "0"), 16))
            for key, name in (("CapBnd", "Bounding"), ("CapEff", "Effective"), ("CapPrm", "Permitted"),
                              ("CapInh", "Inheritable"), ("CapAmb", "Ambient"))}  # fmt: skip
    return {
        "Uid": fields.get("Uid", ""),
        "Gid": fields.get("Gid", ""),
        "Groups": fields.get("Groups", ""),
        "NoNewPrivs": fields.get("NoNewPrivs", ""),
        "Seccomp": {"0": "disabled", "1": "strict", "2": "filter"}.get(fields.get("Seccomp", ""), ""),
        "Capabilities": caps,
        "Cmdline": (
            Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode("utf-8", "replace").split("\0")
        ),
    }


def summarize_spec(spec: dict[str, Any], bundle: Path) -> dict[str, Any]:
    process = spec.get("process") or {}
    linux = spec.get("linux") or {}
    seccomp = linux.get("seccomp") or {}
    return {
        "Path": str(bundle),
        "Config": str(bundle / "config.json"),
        "OciVersion": spec.get("ociVersion", ""),
        "Root": spec.get("root") or {},
        "Hostname": spec.get("hostname", ""),
        "Args": process.get("args") or [],
        "Env": process.get("env") or [],
        "Cwd": process.get("cwd", "/"),
        "User": process.get("user") or {},
        "Terminal": bool(process.get("terminal")),
        "NoNewPrivileges": bool(process.get("noNewPrivileges")),
        "Capabilities": (process.get("capabilities") or {}).get("bounding") or [],
        "Rlimits": process.get("rlimits") or [],
        "OomScoreAdj": process.get("oomScoreAdj", 0),
        "Namespaces": linux.get("namespaces") or [],
        "CgroupsPath": linux.get("cgroupsPath", ""),
        "Resources": {k: v for k, v in (linux.get("resources") or {}).items() if k != "devices"},
        "DeviceRules": len((linux.get("resources") or {}).get("devices") or []),
        "Mounts": spec.get("mounts") or [],
        "MaskedPaths": linux.get("maskedPaths") or [],
        "ReadonlyPaths": linux.get("readonlyPaths") or [],
        "Sysctl": linux.get("sysctl") or {},
        "Seccomp": {
            "DefaultAction": seccomp.get("defaultAction", ""),
            "Architectures": seccomp.get("architectures") or [],
            "Rules": len(seccomp.get("syscalls") or []),
            "Syscalls": sum(len(rule.get("names") or []) for rule in seccomp.get("syscalls") or []),
        }
        if seccomp
        else None,
    }


def namespaces(pid: int) -> list[dict[str, Any]]:
    out = []
    for kind in ("cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"):
        path = f"/proc/{pid}/ns/{kind}"
        try:
            inode = os.stat(path).st_ino
            daemon = os.stat(f"/proc/self/ns/{kind}").st_ino
        except OSError:
            continue
        out.append({"Type": kind, "Path": path, "Inode": inode, "Link": os.readlink(path),
                    "DaemonInode": daemon, "New": inode != daemon})  # fmt: skip
    return out


def cgroups(pid: int) -> dict[str, Any]:
    hierarchies = cgroup_dirs(pid)
    version = 2 if all(h["Version"] == 2 for h in hierarchies) else 1
    limits = []
    for hierarchy in hierarchies:
        directory = hierarchy["Directory"]
        if not directory:
            continue
        if hierarchy["Version"] == 2:
            names = V2_FILES if version == 2 else ()
        else:
            names = tuple(n for c in hierarchy["Controllers"] for n in V1_FILES.get(c, ()))
        for name in names:
            value = _read(os.path.join(directory, name))
            if value is not None:
                limits.append({"File": os.path.join(directory, name), "Value": value})
    return {"Version": version, "Hierarchies": hierarchies, "Files": limits}


def rootfs(mountinfo: list[dict[str, Any]]) -> dict[str, Any]:
    root = next((m for m in mountinfo if m["target"] == "/"), None)
    if root is None:
        return {}
    options = dict(o.split("=", 1) if "=" in o else (o, "") for o in root["super"].split(","))
    return {
        "Type": root["fstype"],
        "Source": root["source"],
        "Options": root["options"],
        "Lowerdir": [d for d in options.get("lowerdir", "").split(":") if d],
        "Upperdir": options.get("upperdir", ""),
        "Workdir": options.get("workdir", ""),
    }


def _mount_view(m: dict[str, Any]) -> dict[str, Any]:
    return {"Target": m["target"], "Type": m["fstype"], "Source": m["source"], "Root": m["root"],
            "Options": m["options"], "SuperOptions": m["super"]}  # fmt: skip


def devices(pid: int) -> list[dict[str, Any]]:
    out = []
    base = f"/proc/{pid}/root/dev"
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        item: dict[str, Any] = {"Path": "/dev/" + entry.name, "Mode": f"{stat.S_IMODE(st.st_mode):04o}",
                                "Uid": st.st_uid, "Gid": st.st_gid}  # fmt: skip
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            item.update(Type="c" if stat.S_ISCHR(st.st_mode) else "b", Major=os.major(st.st_rdev),
                        Minor=os.minor(st.st_rdev))  # fmt: skip
        elif stat.S_ISLNK(st.st_mode):
            item.update(Type="symlink", Target=os.readlink(entry.path))
        else:
            continue
        out.append(item)
    return out


# -- the manual steps --------------------------------------------------------------------------------


def q(text: str) -> str:
    return shlex.quote(text)


def _mount_options(m: dict[str, Any], *, readonly: bool) -> str:
    per_mount = [o for o in m["options"].split(",") if o not in ("rw", "ro", "relatime")]
    superblock = [o for o in m["super"].split(",") if o and o not in ("rw", "ro")]
    options = (["ro"] if readonly else []) + per_mount + [o for o in superblock if o not in per_mount]
    return ",".join(options)


def manual_steps(
    record: Any, spec: dict[str, Any], report: dict[str, Any], mountinfo: list[dict[str, Any]]
) -> str:
    short = record.id[:12]
    process = spec.get("process") or {}
    linux = spec.get("linux") or {}
    busybox = shutil.which("busybox") or "/bin/busybox"
    out: list[str] = []
    add = out.append
    add("#!/bin/sh")
    add(f"# Container {report['Name']} ({short}) built by hand: the steps jocker took, as commands.")
    add("# Run as root. The cgroup step moves this shell into new cgroups; the last step execs the")
    add("# container's command as pid 1 of a new pid namespace (pass a command to run that instead).")
    add("set -e")
    add(f"ID={short}")
    add(
        'ROOT="${ROOT:-/tmp/jocker-manual-$ID}"   # the copy\'s upper and work dirs, and its rootfs mount point'  # noqa: E501
    )
    add("CG=jocker-manual/$ID")
    add("export ROOT CG ID")
    add("")
    # 1. cgroups
    cg = report["Cgroups"]
    manual_dirs: dict[str, str] = {}
    if cg["Version"] == 2:
        add(
            "# 1. cgroup v2: a new group with the limits in force for the container, then this shell joins it"
        )
        add("#    (cgcreate -g cpu,memory,pids:$CG; cgset -r memory.max=… $CG; cgclassify)")
        hierarchy = cg["Hierarchies"][0]
        base = (
            hierarchy["Directory"][: -len(hierarchy["Path"])]
            if hierarchy["Path"] != "/"
            else hierarchy["Directory"]
        )
        add(f"mkdir -p {q(base)}/$CG")
        add(
            f"for c in cpu memory pids io; do echo +$c > {q(base)}/cgroup.subtree_control 2>/dev/null || true; done"  # noqa: E501
        )
        add(
            f"for c in cpu memory pids io; do echo +$c > {q(base)}/jocker-manual/cgroup.subtree_control 2>/dev/null || true; done"  # noqa: E501
        )
        for name in V2_SETTABLE:
            value = _read(os.path.join(hierarchy["Directory"], name))
            if value is not None and value != V2_DEFAULTS.get(name):
                add(f"echo {q(value)} > {q(base)}/$CG/{name}")
        add(f"echo $$ > {q(base)}/$CG/cgroup.procs")
        manual_dirs["unified"] = f"{base}/$CG"
    else:
        add("# 1. cgroup v1: a directory per hierarchy the container is in, the limit values in force in its")
        add("#    cgroups (read from their files), then this shell joins them")
        add(
            "#    (cgcreate -g memory,pids,cpu:$CG; cgset -r memory.limit_in_bytes=… $CG; cgclassify -g …:$CG $$)"  # noqa: E501
        )
        for hierarchy in cg["Hierarchies"]:
            directory = hierarchy["Directory"]
            if not directory:
                continue
            path = hierarchy["Path"]
            base = directory[: -len(path)] if path != "/" and directory.endswith(path) else directory
            target = f"{q(base)}/$CG"
            add(f"mkdir -p {target}")
            controllers = hierarchy["Controllers"]
            manual_dirs[",".join(sorted(controllers)) or "unified"] = f"{base}/$CG"
            if "cpuset" in controllers:
                for name in ("cpuset.cpus", "cpuset.mems"):
                    value = _read(os.path.join(directory, name))
                    add(f"cat {q(base)}/{name} > {q(base)}/jocker-manual/{name}")
                    add(f"echo {q(value or '')} > {target}/{name}")
            for controller in controllers:
                for name in V1_SETTABLE.get(controller, ()):
                    value = _read(os.path.join(directory, name))
                    if value is None or value == V1_DEFAULTS.get(name) or value == str(UNLIMITED_V1):
                        continue
                    add(f"echo {q(value)} > {target}/{name}")
            if "devices" in controllers:
                rules = (_read(os.path.join(directory, "devices.list")) or "").splitlines()
                if rules and rules != ["a *:* rwm"]:
                    add(f"echo a > {target}/devices.deny")
                    for rule in rules:
                        add(f"echo {q(rule)} > {target}/devices.allow")
            add(f"echo $$ > {target}/cgroup.procs")
    add("")
    # 2. the rootfs layer
    root = report["Rootfs"]
    add("# 2. a fresh upper layer and work dir for an overlay over the same image layers")
    add('mkdir -p "$ROOT/upper" "$ROOT/work" "$ROOT/rootfs" "$ROOT/files"')
    bind_sources: dict[str, str] = {}
    for mount in spec.get("mounts") or []:
        if mount.get("type") == "bind":
            source = mount.get("source", "")
            if source.startswith(str(Path(root.get("Upperdir", "/nonexistent")).parent)):
                name = os.path.basename(source)
                add(f'cp {q(source)} "$ROOT/files/{name}"   # jocker writes {name} per container')
                bind_sources[mount["destination"]] = f'"$ROOT/files/{name}"'
            else:
                bind_sources[mount["destination"]] = q(source)
    add("")
    # 3. capabilities and 4. namespaces
    bounding = set(report["Bundle"]["Capabilities"])
    keep = [c for c in SETUP_CAPS if c not in bounding]
    drop = [c.lower() for c in CAPABILITIES if c not in bounding]
    new_ns = [n["Type"] for n in report["Namespaces"] if n["New"]]
    flags = " ".join(NAMESPACE_FLAGS[t] for t in new_ns if t in NAMESPACE_FLAGS)
    fork = " --fork" if "pid" in new_ns else ""
    add("# 3. capabilities (capsh): the bounding set drops what the container may not have; the few the")
    add(
        f"#    set-up below still needs ({', '.join(c.lower() for c in keep) or 'none'}) stay inheritable until the last step"  # noqa: E501
    )
    add(f"# 4. namespaces (unshare): new {' '.join(new_ns)}; the rest runs inside them"
        + (", as pid 1 of the new pid namespace" if fork else ""))  # fmt: skip
    inh = f"--inh={','.join(c.lower() for c in keep)} " if keep else ""
    add(f"exec capsh {inh}--drop={','.join(drop)} --shell=/bin/sh -- \\")
    add(
        f"  -c 'exec unshare {flags}{fork} --propagation private {busybox} sh -es -- \"$@\"' init \"$@\" <<'INIT'"  # noqa: E501
    )
    # inside
    add("# 5. the rootfs: the overlay jocker's shim mounted (lowerdir = the image's layers)")
    lower = ":".join(root.get("Lowerdir") or [])
    add(
        f'mount -t overlay overlay -o lowerdir={q(lower)},upperdir="$ROOT/upper",workdir="$ROOT/work" "$ROOT/rootfs"'  # noqa: E501
    )
    add('R="$ROOT/rootfs"')
    if "uts" in new_ns and spec.get("hostname"):
        add(f"hostname {q(spec['hostname'])}")
    if spec.get("domainname"):
        add(f"domainname {q(spec['domainname'])}")
    if "net" in new_ns:
        add("ip link set lo up")
    for key, value in (linux.get("sysctl") or {}).items():
        add(f"echo {q(value)} > /proc/sys/{key.replace('.', '/')}")
    add("# 6. the mounts in force in the container (its /proc/PID/mountinfo, in order); read-only last")
    devices_by_id = {}
    remounts: list[str] = []
    for m in mountinfo:
        if m["target"] == "/":
            devices_by_id[m["device"]] = "/"
            continue
        target = f'"$R"{q(m["target"])}'
        readonly = "ro" in m["options"].split(",")
        kind = _target_kind(report["Pid"], m["target"])
        make = f"[ -e {target} ] || touch {target}" if kind == "file" else f"mkdir -p {target}"
        earlier = devices_by_id.get(m["device"])
        if m["target"] in bind_sources and m["root"] != "/":
            add(make)
            add(f"mount --bind {bind_sources[m['target']]} {target}")
            if readonly:
                remounts.append(f"mount -o remount,bind,ro {target}")
        elif m["fstype"] in ("cgroup", "cgroup2") and m["root"] != "/":
            source = manual_dirs.get(_cgroup_key(m))
            if source is None:
                continue
            add(make)
            add(f'mount --bind "{source}" {target}')
            if readonly:
                remounts.append(f"mount -o remount,bind,ro {target}")
        elif earlier is not None and m["root"] != "/":
            source = f'"$R"{q(earlier.rstrip("/") + m["root"])}' if earlier != "/" else f'"$R"{q(m["root"])}'
            add(make)
            add(f"mount --bind {source} {target}")
            if readonly:
                remounts.append(f"mount -o remount,bind,ro {target}")
        else:
            add(make)
            options = _mount_options(m, readonly=False)
            add(
                f"mount -t {m['fstype']} {'-o ' + q(options) + ' ' if options else ''}{q(m['source'])} {target}"  # noqa: E501
            )
            if readonly:
                remounts.append(f"mount -o remount,ro {target}")
        devices_by_id.setdefault(m["device"], m["target"])
        if m["target"] == "/dev":
            _device_nodes(report["Devices"], add)
    for line in reversed(remounts):
        add(line)
    if "ro" in root.get("Options", "").split(","):
        add('mount -o remount,bind,ro "$R"')
    add("# 7. pivot_root into the rootfs and detach the old root (this shell is the host's static busybox,")
    add("#    already in memory: its applets keep working without the host's files)")
    add('cd "$R"')
    add("pivot_root . .")
    add("umount -l .")
    add("cd /")
    oom = process.get("oomScoreAdj")
    if oom:
        add(f"echo {int(oom)} > /proc/self/oom_score_adj")
    for rlimit in process.get("rlimits") or []:
        flag = _ULIMIT_FLAGS.get(rlimit.get("type", ""))
        if flag:
            add(
                f"ulimit -H {flag} {int(rlimit.get('hard', 0))}; ulimit -S {flag} {int(rlimit.get('soft', 0))}"  # noqa: E501
            )
    add(f"cd {q(process.get('cwd') or '/')}")
    user = process.get("user") or {}
    if user.get("uid") or user.get("gid"):
        add(
            f"# the container runs as uid {user.get('uid', 0)} gid {user.get('gid', 0)}; busybox setpriv cannot"  # noqa: E501
        )
        add("# change ids: use util-linux setpriv --reuid/--regid/--init-groups for that (not done here)")
    if linux.get("seccomp"):
        add(f"# seccomp: jocker also loads a BPF filter ({report['Bundle']['Seccomp']['Rules']} rules, default "  # noqa: E501
            f"{report['Bundle']['Seccomp']['DefaultAction']}); no shell tool loads one, so this copy runs without it")  # fmt: skip  # noqa: E501
    add(
        "# 8. exec the command: clear the inheritable set-up capabilities (the bounding set is the container's),"  # noqa: E501
    )
    add("#    then the container's environment only")
    command = resolve_command(report["Pid"], process.get("args") or [], process.get("env") or [])
    args = " ".join(q(a) for a in command)
    add(f"[ $# -gt 0 ] || set -- {args}")
    nnp = "--nnp " if process.get("noNewPrivileges") else ""
    inh_clear = f"--inh-caps {','.join('-' + c[4:].lower() for c in keep)} " if keep else ""
    env = " ".join(q(e) for e in process.get("env") or [])
    add(f'exec setpriv {nnp}{inh_clear}env -i {env} "$@"')
    add("INIT")
    add('# afterwards: rmdir the $CG directories; rm -rf "$ROOT"')
    return "\n".join(out) + "\n"


def _cgroup_key(m: dict[str, Any]) -> str:
    """The hierarchy a cgroup mount shows: its controllers (and name=) sorted, or "unified" (v2)."""
    if m["fstype"] == "cgroup2":
        return "unified"
    skip = ("rw", "ro", "clone_children", "noprefix", "xattr", "cpuset_v2_mode")
    options = [
        o for o in m["super"].split(",") if o and o not in skip and ("=" not in o or o.startswith("name="))
    ]
    return ",".join(sorted(options)) or "unified"


def _device_nodes(found: list[dict[str, Any]], add: Any) -> None:
    add("# device nodes (mknod), as found in the container's /dev")
    for device in found:
        path = f'"$R"{q(device["Path"])}'
        if device["Type"] == "symlink":
            add(f"ln -sf {q(device['Target'])} {path}")
        else:
            add(
                f"[ -e {path} ] || mknod -m {device['Mode']} {path} {device['Type']} {device['Major']} {device['Minor']}"  # noqa: E501
            )
            if device["Uid"] or device["Gid"]:
                add(f"chown {device['Uid']}:{device['Gid']} {path}")


def resolve_command(pid: int, args: list[str], env: list[str]) -> list[str]:
    """args[0] looked up in the container's PATH inside its root (absolute, so no applet shadows it)."""
    if not args or "/" in args[0]:
        return args
    path = next(
        (e[5:] for e in env if e.startswith("PATH=")),
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    )
    for directory in path.split(":"):
        candidate = f"{directory.rstrip('/')}/{args[0]}"
        if os.path.lexists(f"/proc/{pid}/root{candidate}"):
            return [candidate, *args[1:]]
    return args


_ULIMIT_FLAGS = {"RLIMIT_NOFILE": "-n", "RLIMIT_NPROC": "-u", "RLIMIT_CORE": "-c", "RLIMIT_STACK": "-s",
                 "RLIMIT_FSIZE": "-f", "RLIMIT_DATA": "-d", "RLIMIT_MEMLOCK": "-l", "RLIMIT_AS": "-v"}  # fmt: skip  # noqa: E501


def _target_kind(pid: int, target: str) -> str:
    try:
        return "dir" if stat.S_ISDIR(os.stat(f"/proc/{pid}/root{target}").st_mode) else "file"
    except OSError:
        return "dir"
