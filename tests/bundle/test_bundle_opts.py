"""The HostConfig options, one by one, through generate_spec (every result is schema-checked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jockerd.bundle.defaults import ALL_CAPABILITIES, DEFAULT_CAPABILITIES
from jockerd.bundle.generate import SpecSettings, generate_spec
from jockerd.bundle.mounts import BindSpec, merge_tmpfs_options, parse_bind
from jockerd.bundle.opts import parse_security_opts, replace_or_append_env, tweak_capabilities
from jockerd.bundle.resources import parse_device_cgroup_rule
from jockerd.errors import InvalidParameterError, UnsupportedError

CID = "0123456789abcdef" * 4
MB = 1024 * 1024
SETTINGS = SpecSettings(arch="x86_64", kernel=(6, 1), cgroup_version=2, ncpu=4)

Build = Callable[..., dict[str, Any]]


@pytest.fixture
def build(
    image_config: dict[str, Any], rootfs: Path, validate_spec: Callable[[dict[str, Any]], None]
) -> Build:
    """generate_spec for a create body made of Config fields and a HostConfig; schema-validated."""

    def _build(
        host: dict[str, Any] | None = None, settings: SpecSettings = SETTINGS, **kwargs: Any
    ) -> dict[str, Any]:
        config = {k: kwargs.pop(k) for k in list(kwargs) if k[0].isupper()}
        body = {**config, "HostConfig": host or {}}
        spec = generate_spec(CID, image_config, body, rootfs, settings=settings, **kwargs)
        validate_spec(spec)
        json.dumps(spec)  # plain JSON types only
        return spec

    return _build


def _mount(spec: dict[str, Any], destination: str) -> dict[str, Any] | None:
    return next((m for m in spec["mounts"] if m["destination"] == destination), None)


def _ns(spec: dict[str, Any]) -> dict[str, str | None]:
    return {ns["type"]: ns.get("path") for ns in spec["linux"]["namespaces"]}


# -- memory ---------------------------------------------------------------------------------------


def test_memory_limit_and_default_swap(build: Build) -> None:
    memory = build({"Memory": 100 * MB})["linux"]["resources"]["memory"]
    assert memory == {"limit": 100 * MB, "swap": 200 * MB}
    memory = build({"Memory": 100 * MB, "MemorySwap": -1, "MemoryReservation": 50 * MB})["linux"]["resources"]
    assert memory["memory"] == {"limit": 100 * MB, "reservation": 50 * MB, "swap": -1}
    memory = build({"Memory": 100 * MB, "MemorySwappiness": 10, "OomKillDisable": True})["linux"]["resources"]
    assert memory["memory"]["swappiness"] == 10 and memory["memory"]["disableOOMKiller"] is True
    assert "memory" not in build({"MemorySwappiness": -1})["linux"]["resources"]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ({"Memory": 5 * MB}, "^Minimum memory limit allowed is 6MB$"),
        (
            {"Memory": 100 * MB, "MemorySwap": 50 * MB},
            "^Minimum memoryswap limit should be larger than memory limit",
        ),
        ({"MemorySwap": 50 * MB}, "^You should always set the Memory limit when using Memoryswap limit"),
        ({"MemoryReservation": MB}, "^Minimum memory reservation allowed is 6MB$"),
        ({"Memory": 10 * MB, "MemoryReservation": 20 * MB}, "can not be less than memory reservation limit"),
        ({"MemorySwappiness": 101}, "^Invalid value: 101, valid memory swappiness range is 0-100$"),
    ],
)
def test_memory_errors(build: Build, host: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        build(host)


# -- cpu ------------------------------------------------------------------------------------------


def test_cpu(build: Build) -> None:
    assert build({"NanoCpus": 1_500_000_000})["linux"]["resources"]["cpu"] == {
        "quota": 150_000,
        "period": 100_000,
    }
    cpu = build(
        {"CpuShares": 512, "CpuPeriod": 50_000, "CpuQuota": 25_000, "CpusetCpus": "0-1,3", "CpusetMems": "0"}
    )
    assert cpu["linux"]["resources"]["cpu"] == {
        "shares": 512,
        "quota": 25_000,
        "period": 50_000,
        "cpus": "0-1,3",
        "mems": "0",
    }
    assert "cpu" not in build({})["linux"]["resources"]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (
            {"NanoCpus": 10**9, "CpuPeriod": 100_000},
            "^Conflicting options: Nano CPUs and CPU Period cannot both be set$",
        ),
        (
            {"NanoCpus": 10**9, "CpuQuota": 100_000},
            "^Conflicting options: Nano CPUs and CPU Quota cannot both be set$",
        ),
        (
            {"NanoCpus": 5 * 10**9},
            r"^Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available$",
        ),
        ({"CpuShares": -1}, r"^invalid CPU shares \(-1\): value must be a positive integer$"),
        ({"CpuPeriod": 999}, "CPU cfs period can not be less than 1ms"),
        ({"CpuQuota": 999}, r"^CPU cfs quota can not be less than 1ms \(i.e. 1000\)$"),
        ({"CpusetCpus": "0-"}, "Invalid value 0- for cpuset cpus"),
        ({"CpusetMems": "3-1"}, "Invalid value 3-1 for cpuset mems"),
        ({"BlkioWeight": 5}, "^Range of blkio weight is from 10 to 1000$"),
    ],
)
def test_cpu_errors(build: Build, host: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        build(host)


def test_pids_and_blkio(build: Build) -> None:
    assert build({"PidsLimit": 100})["linux"]["resources"]["pids"] == {"limit": 100}
    assert build({"PidsLimit": -1})["linux"]["resources"]["pids"] == {"limit": -1}
    assert "pids" not in build({"PidsLimit": 0})["linux"]["resources"]
    assert "pids" not in build({"PidsLimit": None})["linux"]["resources"]
    assert build({"BlkioWeight": 300})["linux"]["resources"]["blockIO"] == {"weight": 300}


def test_cgroups_path(build: Build) -> None:
    assert build()["linux"]["cgroupsPath"] == f"/jocker/{CID}"
    assert build({"CgroupParent": "mine"})["linux"]["cgroupsPath"] == f"/mine/{CID}"


# -- process --------------------------------------------------------------------------------------


def test_ulimits(build: Build) -> None:
    host = {
        "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 4096}, {"Name": "nproc", "Soft": 10, "Hard": 10}]
    }
    assert build(host)["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
        {"type": "RLIMIT_NPROC", "hard": 10, "soft": 10},
    ]
    settings = SpecSettings(
        default_ulimits=({"Name": "nofile", "Soft": 1, "Hard": 2}, {"Name": "core", "Soft": 0, "Hard": 0})
    )
    rlimits = build({"Ulimits": [{"Name": "nofile", "Soft": 5, "Hard": 6}]}, settings=settings)["process"][
        "rlimits"
    ]
    assert {r["type"]: r["soft"] for r in rlimits} == {"RLIMIT_NOFILE": 5, "RLIMIT_CORE": 0}
    assert "rlimits" not in build()["process"]
    with pytest.raises(InvalidParameterError, match=r"^invalid ulimit type: bogus$"):
        build({"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]})
    with pytest.raises(
        InvalidParameterError, match="soft limit must be less than or equal to hard limit: 2 > 1"
    ):
        build({"Ulimits": [{"Name": "nofile", "Soft": 2, "Hard": 1}]})


def test_oom_score_adj(build: Build) -> None:
    assert build()["process"]["oomScoreAdj"] == 0
    assert build({"OomScoreAdj": -500})["process"]["oomScoreAdj"] == -500
    with pytest.raises(
        InvalidParameterError, match=r"^Invalid value 1001, range for oom score adj is \[-1000, 1000\]$"
    ):
        build({"OomScoreAdj": 1001})


def test_env_hostname_terminal(build: Build, image_config: dict[str, Any]) -> None:
    # A bare "LANG" drops the image's LANG and sets none (dockerd: no "=" means unset).
    spec = build(Tty=True, Env=["FOO=bar", "LANG"])
    assert spec["process"]["env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"HOSTNAME={CID[:12]}",
        "TERM=xterm",
        "FOO=bar",
    ]
    assert spec["process"]["terminal"] is True
    assert spec["hostname"] == CID[:12]
    image_config["config"]["Env"] = ["HOME=/root"]
    spec = build(Hostname="web", Domainname="example.org")
    assert spec["process"]["env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=web",
        "HOME=/root",
    ]
    assert (spec["hostname"], spec["domainname"]) == ("web", "example.org")
    assert "terminal" not in spec["process"]


def test_console_size(build: Build) -> None:
    assert build({"ConsoleSize": [24, 80]}, Tty=True)["process"]["consoleSize"] == {"height": 24, "width": 80}
    assert "consoleSize" not in build({"ConsoleSize": [24, 80]})["process"]


def test_replace_or_append_env() -> None:
    assert replace_or_append_env(["PATH=/bin", "HOSTNAME=h"], ["PATH=/x", "A=1", "HOSTNAME"]) == [
        "PATH=/x",
        "A=1",
    ]


def test_user_and_group_add(build: Build) -> None:
    spec = build({"GroupAdd": ["staff", "4000"]}, User="app")
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 10, 29, 50, 4000]}
    with pytest.raises(InvalidParameterError, match="Unable to find group nope"):
        build({"GroupAdd": ["nope"]})


def test_init(build: Build) -> None:
    settings = SpecSettings(init_path="/usr/bin/tini")
    spec = build({"Init": True}, settings=settings, Cmd=["sleep", "1"])
    assert spec["process"]["args"] == ["/sbin/docker-init", "--", "sleep", "1"]
    assert _mount(spec, "/sbin/docker-init") == {
        "destination": "/sbin/docker-init",
        "type": "bind",
        "source": "/usr/bin/tini",
        "options": ["bind", "ro"],
    }
    assert build({"Init": True, "PidMode": "host"}, settings=settings)["process"]["args"] == ["sh"]
    assert build({"Init": False}, settings=SpecSettings(init_path="/tini", default_init=True))["process"][
        "args"
    ] == ["sh"]
    with pytest.raises(InvalidParameterError, match="--init needs an init binary"):
        build({"Init": True})


# -- capabilities and security --------------------------------------------------------------------


def test_cap_add_drop(build: Build) -> None:
    caps = build({"CapAdd": ["sys_admin", "CAP_NET_ADMIN"], "CapDrop": ["Net_Raw"]})["process"][
        "capabilities"
    ]
    assert "CAP_SYS_ADMIN" in caps["bounding"] and "CAP_NET_ADMIN" in caps["bounding"]
    assert "CAP_NET_RAW" not in caps["bounding"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"]
    assert build({"CapDrop": ["ALL"], "CapAdd": ["chown"]})["process"]["capabilities"]["bounding"] == [
        "CAP_CHOWN"
    ]
    everything = build({"CapAdd": ["all"], "CapDrop": ["sys_module"]})["process"]["capabilities"]["bounding"]
    assert set(everything) == set(ALL_CAPABILITIES) - {"CAP_SYS_MODULE"}
    with pytest.raises(InvalidParameterError, match=r'^invalid CapAdd: unknown capability: "CAP_BOGUS"$'):
        build({"CapAdd": ["bogus"]})


def test_tweak_capabilities_keeps_order_without_duplicates() -> None:
    caps = tweak_capabilities(DEFAULT_CAPABILITIES, ["CHOWN", "SYS_TIME"], [], privileged=False)
    assert caps == [*DEFAULT_CAPABILITIES, "CAP_SYS_TIME"]


def test_non_root_users_get_the_bounding_set_only(build: Build) -> None:
    caps = build(User="app")["process"]["capabilities"]
    assert caps == {"bounding": list(DEFAULT_CAPABILITIES)}


def test_seccomp_follows_the_capabilities(build: Build) -> None:
    names = {n for s in build()["linux"]["seccomp"]["syscalls"] for n in s["names"]}
    assert "mount" not in names
    names = {n for s in build({"CapAdd": ["SYS_ADMIN"]})["linux"]["seccomp"]["syscalls"] for n in s["names"]}
    assert "mount" in names


def test_security_opts(build: Build, tmp_path: Path) -> None:
    assert build({"SecurityOpt": ["no-new-privileges"]})["process"]["noNewPrivileges"] is True
    assert build({"SecurityOpt": ["no-new-privileges:true"]})["process"]["noNewPrivileges"] is True
    assert "noNewPrivileges" not in build({"SecurityOpt": ["no-new-privileges=false"]})["process"]
    assert build(settings=SpecSettings(no_new_privileges=True))["process"]["noNewPrivileges"] is True
    assert "seccomp" not in build({"SecurityOpt": ["seccomp=unconfined"]})["linux"]
    assert (
        "seccomp"
        in build({"SecurityOpt": ["seccomp=builtin", "label=disable", "apparmor=unconfined"]})["linux"]
    )
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }
    custom = build({"SecurityOpt": ["seccomp=" + json.dumps(profile)]})["linux"]["seccomp"]
    assert custom == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    assert build({"SecurityOpt": [f"seccomp={path}"]})["linux"]["seccomp"] == custom
    with pytest.raises(InvalidParameterError, match="opening seccomp profile"):
        build({"SecurityOpt": [f"seccomp={tmp_path / 'missing.json'}"]})
    with pytest.raises(InvalidParameterError, match="Decoding seccomp profile failed"):
        build({"SecurityOpt": ["seccomp={not json"]})


@pytest.mark.parametrize(
    ("opt", "message"),
    [
        ("bogus", 'invalid --security-opt 1: "bogus"'),
        ("no-new-privileges=maybe", 'invalid --security-opt 2: "no-new-privileges=maybe"'),
        ("what=ever", 'invalid --security-opt 2: "what=ever"'),
    ],
)
def test_security_opt_errors(opt: str, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        parse_security_opts([opt])


def test_privileged(build: Build) -> None:
    devices = [
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "fileMode": 0o660, "uid": 0, "gid": 6}
    ]
    spec = build({"Privileged": True}, privileged_devices=devices)
    assert spec["process"]["capabilities"]["bounding"] == list(ALL_CAPABILITIES)
    linux = spec["linux"]
    assert "seccomp" not in linux
    assert "maskedPaths" not in linux and "readonlyPaths" not in linux
    assert linux["devices"] == devices
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert "ro" not in _mount(spec, "/sys")["options"]
    assert "ro" not in _mount(spec, "/sys/fs/cgroup")["options"]
    # cgroup v1: a privileged container stays in the host's cgroup namespace (dockerd's default there).
    v1 = build({"Privileged": True}, settings=SpecSettings(cgroup_version=1), privileged_devices=[])
    assert "cgroup" not in _ns(v1)


# -- namespaces and sysctls -----------------------------------------------------------------------


def test_namespace_modes(build: Build) -> None:
    spec = build({"NetworkMode": "host", "PidMode": "host", "IpcMode": "host", "UTSMode": "host"})
    assert set(_ns(spec)) == {"mount", "cgroup"}
    assert "hostname" not in spec
    assert _mount(spec, "/dev/shm")["source"] == "/dev/shm"  # the host's, bound
    paths = {"network": "/proc/42/ns/net", "ipc": "/proc/42/ns/ipc", "pid": "/proc/42/ns/pid"}
    spec = build(
        {"NetworkMode": "container:abc", "IpcMode": "container:abc", "PidMode": "container:abc"},
        namespace_paths=paths,
        container_dir="/c",
    )
    assert {k: v for k, v in _ns(spec).items() if v} == paths
    assert _mount(spec, "/etc/hosts") is None  # the other container's network files
    assert "cgroup" not in _ns(build({"CgroupnsMode": "host"}))
    assert "cgroup" in _ns(build({"CgroupnsMode": "private"}, settings=SpecSettings(cgroup_version=1)))


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ({"IpcMode": "weird"}, "^invalid IPC mode: weird$"),
        ({"PidMode": "weird"}, "^invalid PID mode: weird$"),
        ({"UTSMode": "weird"}, "^invalid UTS mode: weird$"),
        ({"CgroupnsMode": "weird"}, "^invalid cgroup namespace mode: weird$"),
        ({"NetworkMode": "container:abc"}, "invalid NETWORK mode"),
    ],
)
def test_namespace_errors(build: Build, host: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        build(host)


def test_sysctls(build: Build) -> None:
    sysctl = build(
        {"Sysctls": {"net.core.somaxconn": "1024", "kernel.shmmax": "1", "fs.mqueue.msg_max": "20"}}
    )
    assert sysctl["linux"]["sysctl"] == {
        "net.ipv4.ping_group_range": "0 2147483647",
        "net.ipv4.ip_unprivileged_port_start": "0",
        "net.core.somaxconn": "1024",
        "kernel.shmmax": "1",
        "fs.mqueue.msg_max": "20",
    }
    assert build({"Sysctls": {"kernel.domainname": "x"}})["linux"]["sysctl"]["kernel.domainname"] == "x"
    assert "sysctl" not in build({"NetworkMode": "host"})["linux"]
    # --network none: dockerd's sandbox has IPv6 off, the user's sysctls still win
    none = build({"NetworkMode": "none", "Sysctls": {"net.ipv6.conf.lo.disable_ipv6": "0"}})["linux"][
        "sysctl"
    ]
    assert none["net.ipv6.conf.all.disable_ipv6"] == "1" and none["net.ipv6.conf.lo.disable_ipv6"] == "0"


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (
            {"Sysctls": {"kernel.randomize_va_space": "0"}},
            'sysctl "kernel.randomize_va_space" is not in a separate kernel namespace',
        ),
        ({"Sysctls": {"kernel.hostname": "x"}}, "sysctl kernel.hostname is not allowed; use hostname config"),
        (
            {"NetworkMode": "host", "Sysctls": {"net.core.somaxconn": "1"}},
            "not allowed in the hosts network namespace",
        ),
        (
            {"IpcMode": "host", "Sysctls": {"kernel.msgmax": "1"}},
            'sysctl "kernel.msgmax" is not allowed in the hosts ipc namespace',
        ),
        ({"UTSMode": "host", "Sysctls": {"kernel.domainname": "x"}}, "not in a separate kernel namespace"),
    ],
)
def test_sysctl_errors(build: Build, host: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        build(host)


# -- devices --------------------------------------------------------------------------------------


def test_devices(build: Build, make_stat: Callable[..., Any]) -> None:
    stat = make_stat({"/dev/sdb": ("b", 8, 16), "/dev/ttyUSB0": ("c", 188, 0)})
    host = {
        "Devices": [
            {"PathOnHost": "/dev/sdb", "PathInContainer": "/dev/xvda", "CgroupPermissions": "r"},
            {"PathOnHost": "/dev/ttyUSB0", "PathInContainer": "", "CgroupPermissions": "rwm"},
        ],
        "DeviceCgroupRules": ["c 1:* rwm", "a *:* m"],
    }
    linux = build(host, stat=stat)["linux"]
    assert linux["devices"] == [
        {"path": "/dev/xvda", "type": "b", "major": 8, "minor": 16, "fileMode": 0o660, "uid": 0, "gid": 6},
        {
            "path": "/dev/ttyUSB0",
            "type": "c",
            "major": 188,
            "minor": 0,
            "fileMode": 0o660,
            "uid": 0,
            "gid": 6,
        },
    ]
    assert linux["resources"]["devices"][-4:] == [
        {"allow": True, "type": "b", "major": 8, "minor": 16, "access": "r"},
        {"allow": True, "type": "c", "major": 188, "minor": 0, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "access": "rwm"},
        {"allow": True, "type": "a", "access": "m"},
    ]


def test_device_errors(build: Build, make_stat: Callable[..., Any]) -> None:
    stat = make_stat({"/dev/sdb": ("b", 8, 16)})
    with pytest.raises(InvalidParameterError, match="not a device node"):
        build({"Devices": [{"PathOnHost": "/etc/passwd", "PathInContainer": "/x"}]}, stat=stat)
    with pytest.raises(InvalidParameterError, match=r'device "/missing": no such file or directory$'):
        build({"Devices": [{"PathOnHost": "/missing", "PathInContainer": "/x"}]}, stat=stat)
    with pytest.raises(InvalidParameterError, match="invalid device mode: rwx"):
        build({"Devices": [{"PathOnHost": "/dev/sdb", "CgroupPermissions": "rwx"}]}, stat=stat)
    with pytest.raises(InvalidParameterError, match="invalid device cgroup rule format: 'c 1 rwm'"):
        parse_device_cgroup_rule("c 1 rwm")


def test_privileged_maps_renamed_devices(build: Build, make_stat: Callable[..., Any]) -> None:
    stat = make_stat({"/dev/sdb": ("b", 8, 16)})
    host = {"Privileged": True, "Devices": [{"PathOnHost": "/dev/sdb", "PathInContainer": "/dev/disk0"}]}
    devices = build(host, stat=stat, privileged_devices=[])["linux"]["devices"]
    assert [d["path"] for d in devices] == ["/dev/disk0"]


# -- mounts ---------------------------------------------------------------------------------------


def test_shm_size_and_ipc_none(build: Build) -> None:
    assert _mount(build(), "/dev/shm")["options"][-1] == "size=67108864"
    assert _mount(build({"ShmSize": 128 * MB}), "/dev/shm")["options"][-1] == f"size={128 * MB}"
    assert _mount(build({"IpcMode": "none"}), "/dev/shm") is None
    with pytest.raises(InvalidParameterError, match=r"^SHM size can not be less than 0$"):
        build({"ShmSize": -1})


def test_binds(build: Build) -> None:
    spec = build({"Binds": ["/srv/data:/data", "/srv/conf:/etc/app:ro", "/srv/shared:/mnt/s:rshared,z"]})
    assert _mount(spec, "/data") == {
        "destination": "/data",
        "type": "bind",
        "source": "/srv/data",
        "options": ["rbind", "rprivate"],
    }
    assert _mount(spec, "/etc/app")["options"] == ["rbind", "ro", "rprivate"]
    assert _mount(spec, "/mnt/s")["options"] == ["rbind", "rshared"]
    assert spec["linux"]["rootfsPropagation"] == "shared"
    user = [m["destination"] for m in spec["mounts"][7:]]
    assert user == ["/data", "/etc/app", "/mnt/s"]  # parents first: sorted by depth
    slave = build({"Binds": ["/a:/b:slave"]})
    assert slave["linux"]["rootfsPropagation"] == "slave"


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        ("/a:/b:bogus", InvalidParameterError, "^invalid mode: bogus$"),
        ("/a:/b:ro,rw", InvalidParameterError, "^invalid mode: ro,rw$"),
        ("/a:rel", InvalidParameterError, "mount path must be absolute"),
        ("/a:/", InvalidParameterError, "destination can't be '/'"),
        ("/a:/b:ro:x", InvalidParameterError, "^invalid volume specification: '/a:/b:ro:x'$"),
        (":/b", InvalidParameterError, "invalid volume specification"),
    ],
)
def test_bind_errors(raw: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_bind(raw)


def test_anonymous_volumes(build: Build, image_config: dict[str, Any]) -> None:
    image_config["config"]["Volumes"] = {"/var/lib/data": {}}
    resolved = [BindSpec("/vols/1", "/var/lib/data"), BindSpec("/vols/2", "/cache", writable=False)]
    spec = build({"Binds": ["cache:/cache:ro"]}, volumes=resolved)
    assert _mount(spec, "/var/lib/data")["source"] == "/vols/1"
    assert _mount(spec, "/cache") == {
        "destination": "/cache",
        "type": "bind",
        "source": "/vols/2",
        "options": ["rbind", "ro", "rprivate"],
    }
    assert _mount(build(), "/var/lib/data") is None  # no volume: the path stays in the rootfs


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("myvol:/data", BindSpec("myvol", "/data", kind="volume")),
        ("myvol:/data/:ro", BindSpec("myvol", "/data", False, kind="volume", mode="ro")),
        ("v.1_x-y:/d:nocopy", BindSpec("v.1_x-y", "/d", kind="volume", mode="nocopy", copy_data=False)),
        ("/data", BindSpec("", "/data", kind="volume")),
        ("x/y:/d", BindSpec("x/y", "/d", kind="volume")),  # the volume service rejects the name
        ("/srv:/d:ro,z", BindSpec("/srv", "/d", False, mode="ro,z")),
    ],
)
def test_parse_bind_volumes(raw: str, expected: BindSpec) -> None:
    assert parse_bind(raw) == expected


@pytest.mark.parametrize("raw", ["/p:ro", "/p:rw", "/p:z", "", "a:b:c:d"])
def test_parse_bind_invalid_specs(raw: str) -> None:
    """A destination with a mode is no volume (moby: "volumes cannot include a mode")."""
    with pytest.raises(InvalidParameterError, match=r"^invalid volume specification: "):
        parse_bind(raw)


def test_volume_mounts(build: Build) -> None:
    body = {
        "Binds": ["named:/named:ro"],
        "Mounts": [{"Type": "volume", "Source": "other", "Target": "/other"}],
    }
    # The service resolves names to directories; a volume it did not resolve is not mounted.
    spec = build(body, volumes=[BindSpec("/vols/named/_data", "/named", writable=False)])
    assert _mount(spec, "/named")["options"] == ["rbind", "ro", "rprivate"]
    assert _mount(spec, "/other") is None
    with pytest.raises(InvalidParameterError, match=r"^Duplicate mount point: /named$"):
        build({"Binds": ["a:/named", "/srv:/named"]})


def test_tmpfs(build: Build) -> None:
    spec = build({"Tmpfs": {"/run": "", "/tmp": "rw,exec,size=64m,mode=1777"}})
    assert _mount(spec, "/run") == {
        "destination": "/run",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["noexec", "nosuid", "nodev", "rprivate"],
    }
    assert _mount(spec, "/tmp")["options"] == [
        "nosuid",
        "nodev",
        "rprivate",
        "rw",
        "exec",
        "size=64m",
        "mode=1777",
    ]
    assert merge_tmpfs_options(["size=1m", "size=2m", "defaults", "ro", "rw"]) == ["size=2m", "rw"]
    with pytest.raises(InvalidParameterError, match="invalid tmpfs option"):
        merge_tmpfs_options(["bogus"])
    with pytest.raises(InvalidParameterError, match="mount path must be absolute"):
        build({"Tmpfs": {"run": ""}})


def test_mounts_api(build: Build) -> None:
    host = {
        "Mounts": [
            {
                "Type": "bind",
                "Source": "/srv",
                "Target": "/srv",
                "ReadOnly": True,
                "BindOptions": {"NonRecursive": True},
            },
            {"Type": "tmpfs", "Target": "/scratch", "TmpfsOptions": {"SizeBytes": 1024, "Mode": 0o700}},
        ]
    }
    spec = build(host)
    assert _mount(spec, "/srv")["options"] == ["bind", "ro", "rprivate"]
    assert _mount(spec, "/scratch")["options"] == [
        "noexec",
        "nosuid",
        "nodev",
        "rprivate",
        "size=1024",
        "mode=700",
    ]
    with pytest.raises(UnsupportedError):
        build({"Mounts": [{"Type": "npipe", "Source": "v", "Target": "/v"}]})
    with pytest.raises(InvalidParameterError, match="field BindOptions must not be specified"):
        build({"Mounts": [{"Type": "volume", "Target": "/v", "BindOptions": {"Propagation": "shared"}}]})


def test_user_mounts_replace_defaults(build: Build) -> None:
    spec = build({"Binds": ["/host/shm:/dev/shm"]})
    assert _mount(spec, "/dev/shm")["source"] == "/host/shm"
    spec = build({"Binds": ["/hostdev:/dev"]})
    assert [m["destination"] for m in spec["mounts"] if m["destination"].startswith("/dev")] == ["/dev"]
    with pytest.raises(InvalidParameterError, match=r"^Duplicate mount point: /x$"):
        build({"Binds": ["/a:/x"], "Tmpfs": {"/x": ""}})


def test_network_files_and_read_only_rootfs(build: Build) -> None:
    spec = build(container_dir="/var/lib/jocker/containers/c")
    assert _mount(spec, "/etc/resolv.conf") == {
        "destination": "/etc/resolv.conf",
        "type": "bind",
        "source": "/var/lib/jocker/containers/c/resolv.conf",
        "options": ["rbind", "rprivate"],
    }
    assert {"/etc/hosts", "/etc/hostname"} <= {m["destination"] for m in spec["mounts"]}
    spec = build({"ReadonlyRootfs": True, "Binds": ["/a:/a"]}, container_dir="/c")
    assert spec["root"] == {"path": "rootfs", "readonly": True}
    assert "ro" in _mount(spec, "/etc/hosts")["options"]
    assert "ro" not in _mount(spec, "/a")["options"]  # a user mount keeps its own mode
    assert "ro" not in _mount(spec, "/dev/shm")["options"]
    # A user mount at /etc/resolv.conf wins over the container's copy.
    spec = build({"Binds": ["/my/resolv.conf:/etc/resolv.conf:ro"]}, container_dir="/c")
    assert _mount(spec, "/etc/resolv.conf")["source"] == "/my/resolv.conf"


def test_masked_paths_and_annotations(build: Build) -> None:
    linux = build({"MaskedPaths": [], "ReadonlyPaths": ["/proc/sys"]})["linux"]
    assert linux["maskedPaths"] == []
    assert linux["readonlyPaths"] == ["/proc/sys"]
    annotations = build({"Annotations": {"org.opencontainers.image.os": "mine", "a": "b"}})["annotations"]
    assert annotations["org.opencontainers.image.os"] == "mine" and annotations["a"] == "b"
    with pytest.raises(InvalidParameterError, match="the empty string is not permitted as an annotation key"):
        build({"Annotations": {"": "x"}})
