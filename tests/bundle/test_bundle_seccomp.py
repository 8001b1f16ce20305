"""jocker's default seccomp profile is Docker's: same rules for every capability set and architecture.

moby-default-seccomp.json is read only here, as reference data, and resolved by `reference()`
below, a separate reading of moby's includes/excludes rules (profiles/seccomp setupSeccomp);
the project's own data and resolver live in jockerd/bundle/seccomp_profile.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from jockerd.bundle.defaults import ALL_CAPABILITIES, DEFAULT_CAPABILITIES
from jockerd.bundle.seccomp_profile import default_seccomp, native_arch, parse_kernel, seccomp_from_profile
from jockerd.errors import InvalidParameterError

NATIVE_TO_SECCOMP = {
    "amd64": "SCMP_ARCH_X86_64",
    "x86": "SCMP_ARCH_X86",
    "arm64": "SCMP_ARCH_AARCH64",
    "arm": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390x": "SCMP_ARCH_S390X",
    "riscv64": "SCMP_ARCH_RISCV64",
    "mips64": "SCMP_ARCH_MIPS64",
}
ARCHES = sorted(NATIVE_TO_SECCOMP)
CAP_SETS = {
    "default": list(DEFAULT_CAPABILITIES),
    "none": [],
    "all": list(ALL_CAPABILITIES),
    "sys_admin": [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"],
    "ptrace": [*DEFAULT_CAPABILITIES, "CAP_SYS_PTRACE"],
    "each_other": ["CAP_DAC_READ_SEARCH", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT", "CAP_SYS_RAWIO"],
    "more": ["CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON"],
}


def _kernel_at_least(kernel: tuple[int, int] | None, minimum: str) -> bool:
    if kernel is None:
        return True
    major, minor = (int(x) for x in minimum.split(".")[:2])
    return kernel >= (major, minor)


def reference(
    profile: dict[str, Any], caps: list[str], arch: str, kernel: tuple[int, int] | None
) -> dict[str, Any]:
    """Docker's reading of its own profile, written independently of the code under test."""
    native = NATIVE_TO_SECCOMP[arch]
    architectures: list[str] = []
    for entry in profile.get("archMap") or []:
        if entry["architecture"] == native:
            architectures = [native, *(entry.get("subArchitectures") or [])]
    syscalls = []
    for call in profile["syscalls"]:
        inc, exc = call.get("includes") or {}, call.get("excludes") or {}
        if arch in (exc.get("arches") or []) or any(c in caps for c in exc.get("caps") or []):
            continue
        if exc.get("minKernel") and _kernel_at_least(kernel, exc["minKernel"]):
            continue
        if inc.get("arches") and arch not in inc["arches"]:
            continue
        if not all(c in caps for c in inc.get("caps") or []):
            continue
        if inc.get("minKernel") and not _kernel_at_least(kernel, inc["minKernel"]):
            continue
        syscalls.append({k: call[k] for k in ("names", "action", "errnoRet", "args") if k in call})
    out = {"defaultAction": profile["defaultAction"], "syscalls": syscalls}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    if architectures:
        out["architectures"] = architectures
    return out


def rule_set(seccomp: dict[str, Any]) -> set[tuple[str, str, Any, str]]:
    """The filter's meaning: one (syscall, action, errnoRet, args) per name, order-free."""
    return {
        (name, s["action"], s.get("errnoRet"), json.dumps(s.get("args") or [], sort_keys=True))
        for s in seccomp["syscalls"]
        for name in s["names"]
    }


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("caps", sorted(CAP_SETS))
@pytest.mark.parametrize("kernel", [None, (4, 4), (6, 1)], ids=["any", "4.4", "6.1"])
def test_default_profile_equals_dockers(
    moby_profile: dict[str, Any], arch: str, caps: str, kernel: tuple[int, int] | None
) -> None:
    ours = default_seccomp(CAP_SETS[caps], arch, kernel)
    theirs = reference(moby_profile, CAP_SETS[caps], arch, kernel)
    assert ours["defaultAction"] == theirs["defaultAction"]
    assert ours.get("defaultErrnoRet") == theirs.get("defaultErrnoRet")
    assert ours.get("architectures") == theirs.get("architectures")
    assert rule_set(ours) == rule_set(theirs)


def test_same_rules_in_the_same_order(moby_profile: dict[str, Any]) -> None:
    """Not only the same meaning: the same list, so a diff against Docker's config.json is quiet."""
    ours = default_seccomp(DEFAULT_CAPABILITIES, "amd64")
    theirs = reference(moby_profile, list(DEFAULT_CAPABILITIES), "amd64", None)
    flatten = [(sorted(s["names"]), s["action"], s.get("errnoRet"), s.get("args")) for s in ours["syscalls"]]
    expected = [
        (sorted(s["names"]), s["action"], s.get("errnoRet"), s.get("args")) for s in theirs["syscalls"]
    ]
    assert flatten == expected


def test_the_docker_format_resolver_agrees(moby_profile: dict[str, Any]) -> None:
    """--security-opt seccomp=<moby's file> gives what the built-in default gives."""
    for arch in ARCHES:
        for caps in CAP_SETS.values():
            custom = seccomp_from_profile(moby_profile, caps, arch)
            assert custom is not None
            assert rule_set(custom) == rule_set(default_seccomp(caps, arch))
            assert custom.get("architectures") == default_seccomp(caps, arch).get("architectures")


def test_known_decisions_of_the_default_profile() -> None:
    default = rule_set(default_seccomp(DEFAULT_CAPABILITIES, "x86_64"))
    names = {name for name, *_ in default}
    assert {"read", "write", "execve", "arch_prctl", "modify_ldt", "ptrace"} <= names
    assert not {"mount", "unshare", "setns", "reboot", "bpf", "kexec_load", "init_module"} & names
    assert ("clone3", "SCMP_ACT_ERRNO", 38, "[]") in default
    admin = {
        name for name, *_ in rule_set(default_seccomp([*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"], "amd64"))
    }
    assert {"mount", "unshare", "setns", "clone3"} <= admin
    arm = {name for name, *_ in rule_set(default_seccomp(DEFAULT_CAPABILITIES, "aarch64"))}
    assert "arch_prctl" not in arm and "set_tls" in arm


def test_architecture_spellings() -> None:
    assert native_arch("x86_64") == native_arch("amd64") == "amd64"
    assert native_arch("aarch64") == "arm64"
    assert default_seccomp([], "x86_64")["architectures"] == [
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
    ]
    assert default_seccomp([], "aarch64")["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "architectures" not in default_seccomp([], "ppc64le")


def test_parse_kernel() -> None:
    assert parse_kernel("6.1.0-18-amd64") == (6, 1)
    assert parse_kernel("4.8") == (4, 8)
    with pytest.raises(InvalidParameterError):
        parse_kernel("x.y")


def test_custom_profile_fields() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [
            {"name": "mkdir", "action": "SCMP_ACT_ERRNO"},
            {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        ],
    }
    out = seccomp_from_profile(profile, DEFAULT_CAPABILITIES, "amd64")
    assert out == {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    }
    assert seccomp_from_profile({}, [], "amd64") is None


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["a"], "archMap": [{}]}, "use either"),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "x"}]},
            "use either",
        ),
    ],
)
def test_custom_profile_errors(profile: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        seccomp_from_profile(profile, [], "amd64")
