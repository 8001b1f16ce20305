"""Small pieces without root: capability names, the sync protocol, fastjson, spec checks, hooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jockerd.runtime import capabilities, fastjson, hooks, spec, sync
from jockerd.runtime.container import format_time, read_stat, validate_id, write_pid_file
from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C
from jockerd.runtime.linux.syscalls import RecordingSyscalls

# -- capabilities ---------------------------------------------------------------------------------


def test_capability_numbers_match_linux() -> None:
    assert capabilities.number("CAP_CHOWN") == 0
    assert capabilities.number("CAP_SYS_ADMIN") == 21
    assert capabilities.number("CAP_AUDIT_READ") == 37
    assert capabilities.number("CAP_CHECKPOINT_RESTORE") == 40
    assert capabilities.number("sys_admin") == 21  # runc accepts these spellings
    assert capabilities.name(13) == "CAP_NET_RAW"
    assert len(capabilities.CAPABILITIES) == 41


def test_capability_numbers_match_the_kernel_headers_when_available() -> None:
    header = Path("/usr/include/linux/capability.h")
    if not header.exists():
        pytest.skip("no kernel headers")
    defined = {}
    for line in header.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "#define" and parts[1].startswith("CAP_") and parts[2].isdigit():
            defined[parts[1]] = int(parts[2])
    for name, number in capabilities.CAPABILITY_NUMBERS.items():
        if name in defined:
            assert defined[name] == number, name


def test_unknown_capability_is_an_error() -> None:
    with pytest.raises(ContainerError, match="unknown capability 'CAP_FOO'"):
        capabilities.validate({"bounding": ["CAP_KILL", "CAP_FOO"]})


def test_masks_skip_capabilities_newer_than_the_kernel() -> None:
    assert capabilities.mask(["CAP_CHOWN", "CAP_KILL"], 40) == 0b100001
    assert capabilities.mask(["CAP_CHECKPOINT_RESTORE"], 39) == 0


def test_apply_order_and_ambient() -> None:
    sys = RecordingSyscalls()
    caps = {
        "bounding": ["CAP_KILL"],
        "permitted": ["CAP_KILL"],
        "effective": ["CAP_KILL"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"],
    }
    capabilities.drop_bounding(caps, sys, 40)
    capabilities.apply_sets(caps, sys, 40)
    drops = [c[2] for c in sys.calls if c[:2] == ("prctl", C.PR_CAPBSET_DROP)]
    assert drops == [n for n in range(41) if n != 5]
    assert sys.of("capset") == [("capset", 1 << 5, 1 << 5, 1 << 5)]
    assert sys.calls[-1] == ("prctl", C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE)


# -- sync -----------------------------------------------------------------------------------------


def test_sync_round_trip_and_errors() -> None:
    parent, child = sync.channel_pair()
    try:
        child.send("pid", pid=42)
        child.send("ready")
        assert parent.expect("pid") == {"type": "pid", "pid": 42}
        assert parent.expect("hooks", "ready")["type"] == "ready"
        child.send("error", message="mount failed: EPERM")
        with pytest.raises(ContainerError, match="mount failed: EPERM"):
            parent.expect("ready")
        child.send("hooks")
        with pytest.raises(sync.SyncError, match="unexpected sync message 'hooks'"):
            parent.expect("ready")
        child.close()
        with pytest.raises(sync.SyncError, match="init process exited without reporting"):
            parent.expect("ready", peer="init")
    finally:
        parent.close()
        child.close()


def test_sync_messages_split_across_reads() -> None:
    parent, child = sync.channel_pair()
    try:
        os.write(child.fd, b'{"type":"pi')
        os.write(child.fd, b'd","pid":7}\n{"type":"ready"}\n')
        assert parent.recv() == {"type": "pid", "pid": 7}
        assert parent.recv() == {"type": "ready"}
    finally:
        parent.close()
        child.close()


def test_sync_channels_are_close_on_exec() -> None:
    import fcntl

    parent, child = sync.channel_pair()
    try:
        for end in (parent, child):
            assert fcntl.fcntl(end.fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
    finally:
        parent.close()
        child.close()


# -- fastjson -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [{"a": [1, 2.5, None, True, "é\u2028"]}, [], {}, "x", 0, {"n": {"m": []}}])
def test_fastjson_matches_json(value: object) -> None:
    text = json.dumps(value)
    assert fastjson.loads(text) == json.loads(text)
    assert fastjson.dumps(value) == json.dumps(value, separators=(",", ":"))
    assert fastjson.dumps(value, indent=2) == json.dumps(value, indent=2)


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{} {}", "nul"])
def test_fastjson_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(text)


# -- spec and identifiers -------------------------------------------------------------------------


def _bundle(tmp_path: Path, edit=None) -> Path:
    (tmp_path / "rootfs").mkdir(exist_ok=True)
    config = spec.default()
    if edit:
        edit(config)
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_default_spec_is_valid(tmp_path: Path) -> None:
    assert spec.load(str(_bundle(tmp_path)))["process"]["args"] == ["sh"]


def schema_validator(name: str):  # -> jsonschema validator for the runtime-spec schema `name`
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    schema_dir = Path(__file__).resolve().parents[3] / "shared" / "reference" / "oci-runtime-spec" / "schema"
    if not schema_dir.exists():
        pytest.skip("no runtime-spec schema")
    base = schema_dir.as_uri() + "/"
    draft4 = referencing.jsonschema.DRAFT4
    registry = referencing.Registry().with_resources(
        (base + p.name, draft4.create_resource(json.loads(p.read_text()))) for p in schema_dir.glob("*.json")
    )
    return jsonschema.Draft4Validator({"$ref": base + name}, registry=registry)


def test_default_spec_matches_the_schema() -> None:
    validator = schema_validator("config-schema.json")
    for config in (spec.default(), spec.default(rootless=True)):
        assert [e.message for e in validator.iter_errors(config)] == []


def test_features_output_matches_the_schema(jocker_argv: list[str]) -> None:
    import subprocess

    result = subprocess.run([*jocker_argv, "features"], capture_output=True, text=True, check=True)
    features = json.loads(result.stdout)
    assert [e.message for e in schema_validator("features-schema.json").iter_errors(features)] == []
    assert "CAP_SYS_ADMIN" in features["linux"]["capabilities"]
    assert "cgroup" in features["linux"]["namespaces"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(ociVersion="invalid"), "unsupported spec version"),
        (lambda s: s.pop("process"), "process must be set"),
        (lambda s: s["process"].update(args=[]), "args must not be empty"),
        (lambda s: s["process"].update(cwd="relative"), "is not an absolute path"),
        (lambda s: s["root"].update(path="missing"), "does not exist"),
        (lambda s: s["linux"]["namespaces"].append({"type": "bogus"}), "namespace type 'bogus'"),
        (lambda s: s["linux"]["namespaces"].append({"type": "pid"}), "duplicated ns 'pid'"),
        (
            lambda s: s["process"]["rlimits"].append({"type": "RLIMIT_FOO", "hard": 1, "soft": 1}),
            "RLIMIT_FOO",
        ),
        (lambda s: s["process"]["capabilities"]["bounding"].append("CAP_BOGUS"), "unknown capability"),
        (lambda s: s["linux"].update(namespaces=[{"type": "pid"}]), "without a private UTS namespace"),
    ],
)
def test_invalid_specs_are_refused(tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(ContainerError, match=message):
        spec.load(str(_bundle(tmp_path, edit)))


def test_unknown_properties_and_version_suffixes_are_accepted(tmp_path: Path) -> None:
    def edit(s: dict) -> None:
        s.update(ociVersion="1.0.2-dev", somethingNew={"x": 1}, annotations={"k": "v"})

    assert spec.load(str(_bundle(tmp_path, edit)))["somethingNew"] == {"x": 1}


@pytest.mark.parametrize("good", ["abc", "a.b-c_d+e", "0123456789" * 7])
def test_valid_ids(good: str) -> None:
    validate_id(good)


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a b", "é"])
def test_invalid_ids(bad: str) -> None:
    with pytest.raises(ContainerError, match="invalid container id"):
        validate_id(bad)


def test_pid_file_is_decimal_without_newline(tmp_path: Path) -> None:
    write_pid_file(str(tmp_path / "pid"), 1234)
    assert (tmp_path / "pid").read_bytes() == b"1234"


def test_time_format_and_proc_stat() -> None:
    assert format_time(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert format_time(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    state, start = read_stat(os.getpid())
    assert state in "RS" and start > 0
    assert read_stat(2**22 + 1) is None


# -- hooks ----------------------------------------------------------------------------------------


def test_hook_gets_state_on_stdin(tmp_path: Path) -> None:
    out, env = tmp_path / "out", tmp_path / "env"
    hook = {"path": "/bin/sh", "args": ["sh", "-c", f'cat > {out}; echo "$X" > {env}'], "env": ["X=1"]}
    hooks.run_hooks([hook], {"id": "c1", "status": "created"})
    assert json.loads(out.read_text()) == {"id": "c1", "status": "created"}
    assert env.read_text() == "1\n"


def test_hook_failure_reports_status_and_output() -> None:
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "echo out; echo err >&2; exit 3"]}
    with pytest.raises(ContainerError) as info:
        hooks.run_hooks([{"path": "/bin/true"}, hook], {})
    assert str(info.value) == "error running hook #1: exit status 3, stdout: out\n, stderr: err\n"


def test_hook_timeout_kills_it() -> None:
    with pytest.raises(ContainerError, match="timeout after 1 seconds"):
        hooks.run_hooks([{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}], {})


def test_hook_not_reading_stdin_is_fine() -> None:
    big = {"annotations": {str(i): "x" * 100 for i in range(2000)}}  # more than a pipe buffer
    hooks.run_hooks([{"path": "/bin/true"}], big)


def test_poststop_failures_are_warnings() -> None:
    hooks.run_hooks_warn([{"path": "/bin/false"}, {"path": "/nonexistent"}], {})
