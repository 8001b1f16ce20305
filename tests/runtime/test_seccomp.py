"""jockerd.runtime.seccomp: OCI linux.seccomp → libseccomp filter → kernel.

Filters are built in this process (no privilege needed) and loaded only in child processes: a
`python -c` subprocess sets no_new_privs (so loading needs no CAP_SYS_ADMIN), loads the profile
and reports what the kernel then answers, as JSON on stdout.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

pyseccomp = pytest.importorskip("pyseccomp")

from jockerd.bundle.defaults import DEFAULT_CAPABILITIES  # noqa: E402
from jockerd.bundle.seccomp_profile import default_seccomp  # noqa: E402
from jockerd.runtime import seccomp  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO.parent / "shared" / "reference" / "oci-runtime-spec" / "schema"

# Runs in the child: load the profile given as argv[1], then run the probe given as argv[2].
CHILD = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS = 38
from jockerd.runtime import seccomp
if os.environ.get("AS_NOBODY"):
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
if not os.environ.get("KEEP_NNP_OFF"):
    assert libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
try:
    seccomp.load(json.loads(sys.argv[1]))
except seccomp.SeccompError as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(0)
out = {}
def call(name, *args):
    ctypes.set_errno(0)
    rc = getattr(libc, name)(*args)
    return {"rc": rc, "errno": ctypes.get_errno() if rc == -1 else 0}
exec(sys.argv[2])
print(json.dumps(out))
"""


def run_child(profile: dict[str, Any], probe: str, **env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(profile), probe],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def allow_all_but(*syscalls: dict[str, Any]) -> dict[str, Any]:
    return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": list(syscalls)}


MKDIR_PROBE = """
d = os.path.join(os.environ["PROBE_DIR"], "x")
try:
    os.mkdir(d)
    out["mkdir"] = 0
except OSError as e:
    out["mkdir"] = e.errno
"""


@pytest.fixture
def probe_dir(monkeypatch: pytest.MonkeyPatch) -> str:
    with tempfile.TemporaryDirectory() as d:
        monkeypatch.setenv("PROBE_DIR", d)
        yield d


def test_errno_action_defaults_to_eperm(probe_dir: str) -> None:
    out = run_child(allow_all_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}), MKDIR_PROBE)
    assert out["mkdir"] == errno.EPERM
    assert not os.path.exists(os.path.join(probe_dir, "x"))


def test_errno_ret_is_the_errno(probe_dir: str) -> None:
    profile = allow_all_but(
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSPC}
    )
    assert run_child(profile, MKDIR_PROBE)["mkdir"] == errno.ENOSPC


def test_unknown_syscall_names_are_skipped(probe_dir: str) -> None:
    profile = allow_all_but(
        {"names": ["no_such_syscall_at_all", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
    )
    assert run_child(profile, MKDIR_PROBE)["mkdir"] == errno.EPERM


PERSONALITY_PROBE = """
out["query"] = call("personality", ctypes.c_ulong(0xFFFFFFFF))
out["linux"] = call("personality", ctypes.c_ulong(0))
out["linux32"] = call("personality", ctypes.c_ulong(8))
"""


def test_args_filter_matches_only_that_value() -> None:
    deny_query = {
        "names": ["personality"],
        "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}],
    }
    out = run_child(allow_all_but(deny_query), PERSONALITY_PROBE)
    assert out["query"] == {"rc": -1, "errno": errno.EPERM}
    assert out["linux"]["rc"] >= 0
    assert out["linux32"]["rc"] >= 0


def test_repeated_arg_index_means_any_of_them() -> None:
    """Two conditions on one index can't both hold: like runc, each becomes its own rule."""
    deny_two = {
        "names": ["personality"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": errno.EINVAL,
        "args": [
            {"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
        ],
    }
    out = run_child(allow_all_but(deny_two), PERSONALITY_PROBE)
    assert out["query"] == {"rc": -1, "errno": errno.EINVAL}
    assert out["linux32"] == {"rc": -1, "errno": errno.EINVAL}
    assert out["linux"]["rc"] >= 0


def test_masked_eq_uses_value_as_mask_and_value_two_as_datum() -> None:
    # Deny personality(x) when (x & 0xff) == 8: PER_LINUX32 denied, PER_LINUX allowed.
    rule = {
        "names": ["personality"],
        "action": "SCMP_ACT_ERRNO",
        "args": [{"index": 0, "value": 0xFF, "valueTwo": 8, "op": "SCMP_CMP_MASKED_EQ"}],
    }
    out = run_child(allow_all_but(rule), PERSONALITY_PROBE)
    assert out["linux32"] == {"rc": -1, "errno": errno.EPERM}
    assert out["linux"]["rc"] >= 0


def test_status_shows_filter_mode_in_the_child_only() -> None:
    probe = """
for line in open("/proc/self/status"):
    if line.startswith("Seccomp:"):
        out["mode"] = int(line.split()[1])
"""
    assert run_child(allow_all_but(), probe)["mode"] == 2
    own = next(
        line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("Seccomp:")
    )
    assert own.split()[1] == "0"


@pytest.mark.root
def test_without_no_new_privs_loading_needs_cap_sys_admin(probe_dir: str) -> None:
    """No no_new_privs: root (CAP_SYS_ADMIN) can load the filter; a user without it is told why not."""
    profile = allow_all_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"})
    assert run_child(profile, MKDIR_PROBE, KEEP_NNP_OFF="1")["mkdir"] == errno.EPERM
    out = run_child(profile, MKDIR_PROBE, KEEP_NNP_OFF="1", AS_NOBODY="1")
    assert out["error"].startswith("seccomp: loading the filter: Permission denied (without noNewPrivileges")


def test_flags_are_accepted(probe_dir: str) -> None:
    profile = allow_all_but({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"})
    profile["flags"] = [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    ]
    assert run_child(profile, MKDIR_PROBE)["mkdir"] == errno.EPERM


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the compat architectures of x86_64")
def test_architectures_are_added() -> None:
    flt = seccomp.build_filter(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        }
    )
    assert flt.exist_arch(pyseccomp.Arch.X86)
    assert flt.exist_arch(pyseccomp.Arch.X32)
    assert not flt.exist_arch(pyseccomp.Arch.AARCH64)


DOCKER_PROBE = """
out["unshare"] = call("unshare", 0)
out["mount"] = call("mount", b"none", b"/", b"tmpfs", 0, None)
out["getpid"] = call("getpid")
out["clone3"] = call("syscall", 435, 0, 0)
sys.stdout.write(json.dumps(out) + "\\n")
sys.stdout.flush()
os.execv("/bin/busybox", ["busybox", "true"])
"""


@pytest.mark.skipif(not Path("/bin/busybox").exists(), reason="busybox-static is not installed")
def test_default_profile_denies_admin_calls_and_still_runs_busybox() -> None:
    profile = default_seccomp(DEFAULT_CAPABILITIES, platform.machine())
    result = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(profile), DOCKER_PROBE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr  # busybox true, exec'd under the filter
    out = json.loads(result.stdout.splitlines()[0])
    assert out["unshare"] == {"rc": -1, "errno": errno.EPERM}  # needs CAP_SYS_ADMIN
    assert out["mount"] == {"rc": -1, "errno": errno.EPERM}
    assert out["clone3"] == {"rc": -1, "errno": errno.ENOSYS}  # libc falls back to clone
    assert out["getpid"]["rc"] > 0


def test_build_needs_no_privilege_and_renders_the_rules(tmp_path: Path) -> None:
    flt = seccomp.build_filter(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": errno.ENOSYS,
            "syscalls": [
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS},
            ],
        }
    )
    pfc = tmp_path / "filter.pfc"
    with pfc.open("w") as f:
        flt.export_pfc(f)
    text = pfc.read_text()
    assert f"ERRNO({errno.ENOSYS})" in text  # the default action
    assert '"getpid"' in text and "action ALLOW" in text
    assert '"kill"' in text and "action KILL_PROCESS" in text
    assert "getppid" not in text  # same action as the default: skipped


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"defaultAction": "SCMP_ACT_BOGUS"}, "unknown seccomp action"),
        ({}, "defaultAction is required"),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}],
            },
            "unknown seccomp action",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["mkdir"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}],
                    }
                ],
            },
            "unknown seccomp operator",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["mkdir"],
                        "action": "SCMP_ACT_ERRNO",
                        "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}],
                    }
                ],
            },
            "out of range",
        ),
        (
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_VAX"]},
            "unknown seccomp architecture",
        ),
        ({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_BOGUS"]}, "unknown seccomp flag"),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
            },
            "needs listenerPath",
        ),
    ],
)
def test_bad_profiles_are_errors(profile: dict[str, Any], message: str) -> None:
    with pytest.raises(seccomp.SeccompError, match=message):
        seccomp.build_filter(profile)


def test_features_match_the_schema() -> None:
    features = seccomp.features()
    assert features["enabled"] is True
    assert "SCMP_ACT_ERRNO" in features["actions"] and "SCMP_ACT_KILL_PROCESS" in features["actions"]
    assert len(features["operators"]) == 7
    assert "SCMP_ARCH_X86_64" in features["archs"]
    assert set(features["supportedFlags"]) <= set(features["knownFlags"])
    assert "SECCOMP_FILTER_FLAG_TSYNC" in features["supportedFlags"]
    if not SCHEMA_DIR.is_dir():
        pytest.skip("the runtime-spec schema is not in ../shared/reference")
    jsonschema = pytest.importorskip("jsonschema")
    defs = json.loads((SCHEMA_DIR / "defs-linux.json").read_text())["definitions"]
    for key, definition in (
        ("actions", "SeccompAction"),
        ("operators", "SeccompOperators"),
        ("archs", "SeccompArch"),
        ("knownFlags", "SeccompFlag"),
    ):
        jsonschema.validate(features[key], {"type": "array", "items": defs[definition]})


def test_import_is_lazy_enough() -> None:
    """Importing the module pulls in pyseccomp (libseccomp) but nothing of the daemon."""
    code = (
        "import sys, jockerd.runtime.seccomp; "
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'pydantic'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
