"""OciRuntime against real runtimes (runc, crun, jocker-runtime) and against a fake one.

The real-runtime tests (`@pytest.mark.root`) run every verb on a busybox bundle: the rootfs is
the host's static busybox plus a few applet symlinks, the spec is `runc spec`'s default with
`terminal: false`. That spec gives each container its own network namespace; nothing here
configures networking. Each test has its own runtime state root under tmp_path and every
container it creates is force-deleted at teardown.

crun refuses this host's cgroup v1 hybrid layout while the unified cgroup2 mount is visible
(shared/runtime-contract.md), so it runs through a wrapper that hides it in a private mount
namespace. jocker-runtime (`python -m jockerd.runtime`) is included once its `spec` verb works.

The fake-runtime tests need no root: a small Python script records its argv and answers as
told, which pins the argv contract (globals before the verb) and the error mapping.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jockerd.driver.oci_runtime import (
    OciRuntime,
    OciRuntimeConflictError,
    OciRuntimeError,
    OciRuntimeInternalError,
    OciRuntimeInvalidParameterError,
    OciRuntimeNotFoundError,
    OciRuntimeUnsupportedError,
    error_kind,
    parse_error_message,
)
from jockerd.errors import (
    ConflictError,
    InternalError,
    InvalidParameterError,
    JockerError,
    NotFoundError,
    UnsupportedError,
)

REPO = Path(__file__).resolve().parents[2]
BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "true", "sleep", "cat", "ls", "id", "hostname", "echo")
UNIFIED = Path("/sys/fs/cgroup/unified")


# -- real runtimes ---------------------------------------------------------------------------------


def _runc() -> list[str] | None:
    path = shutil.which("runc") or ("/usr/sbin/runc" if Path("/usr/sbin/runc").exists() else None)
    return [path] if path else None


def _crun(tmp: Path) -> list[str] | None:
    path = shutil.which("crun")
    if path is None:
        return None
    if not os.path.ismount(UNIFIED):
        return [path]
    wrapper = tmp / "crun-hybrid"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# crun on a cgroup v1 hybrid host: hide the unified mount in a private mount namespace\n"
        f'exec unshare -m sh -c \'umount {UNIFIED} 2>/dev/null; exec {path} "$@"\' crun "$@"\n'
    )
    wrapper.chmod(0o755)
    return [str(wrapper)]


def _jocker(tmp: Path) -> tuple[list[str] | None, str]:
    argv = [sys.executable, "-m", "jockerd.runtime"]
    if not (REPO / "jockerd" / "runtime" / "__main__.py").exists():
        return None, "jockerd/runtime/__main__.py does not exist yet"
    spec_dir = tmp / "jocker-spec"
    spec_dir.mkdir()
    try:
        result = subprocess.run([*argv, "spec"], cwd=spec_dir, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None, "jocker-runtime spec timed out"
    if result.returncode != 0 or not (spec_dir / "config.json").exists():
        return None, f"jocker-runtime spec failed ({result.returncode}): {result.stderr.strip()[-300:]}"
    return argv, ""


@pytest.fixture(scope="session")
def runtime_argvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str] | None, str]]:
    tmp = tmp_path_factory.mktemp("runtimes")
    runc = _runc()
    crun = _crun(tmp)
    return {
        "runc": (runc, "" if runc else "runc is not installed"),
        "crun": (crun, "" if crun else "crun is not installed"),
        "jocker": _jocker(tmp),
    }


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only-safe busybox rootfs shared by every bundle."""
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    root = tmp_path_factory.mktemp("rootfs")
    for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "root"):
        (root / d).mkdir()
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in APPLETS:
        (root / "bin" / applet).symlink_to("busybox")
    return root


@pytest.fixture(scope="session")
def spec_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`runc spec`'s default config.json (own pid/net/ipc/uts/mount namespaces), terminal off."""
    runc = _runc()
    if runc is None:
        pytest.skip("runc is needed to generate the default spec")
    d = tmp_path_factory.mktemp("spec")
    subprocess.run([*runc, "spec", "--bundle", str(d)], check=True, timeout=30)
    spec = json.loads((d / "config.json").read_text())
    spec["process"]["terminal"] = False
    return spec


@dataclass
class Harness:
    """One runtime, one state root, the bundles and containers of one test."""

    runtime: OciRuntime
    name: str
    tmp: Path
    rootfs: Path
    template: dict[str, Any]

    def __post_init__(self) -> None:
        self.ids: list[str] = []

    def bundle(self, *args: str) -> Path:
        spec = json.loads(json.dumps(self.template))
        spec["process"]["args"] = list(args)
        spec["root"] = {"path": str(self.rootfs), "readonly": True}
        path = self.tmp / f"bundle-{len(self.ids)}-{uuid.uuid4().hex[:6]}"
        path.mkdir()
        (path / "config.json").write_text(json.dumps(spec))
        return path

    def new_id(self) -> str:
        cid = f"jt-{self.name}-{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    async def create(self, *args: str, **kwargs: Any) -> tuple[str, int]:
        cid = self.new_id()
        pid = await self.runtime.create(cid, self.bundle(*args), **kwargs)
        return cid, pid

    async def running(self, *args: str) -> tuple[str, int]:
        cid, pid = await self.create(*args)
        await self.runtime.start(cid)
        return cid, pid

    async def wait_status(self, cid: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = await self.runtime.state(cid)
            if state["status"] == status:
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"{cid} still {state['status']} after {timeout}s, wanted {status}")
            await asyncio.sleep(0.02)

    def cleanup(self) -> None:
        for cid in self.ids:
            subprocess.run(
                [*self.runtime.argv, "--root", str(self.runtime.root), "delete", "--force", cid],
                capture_output=True,
                timeout=30,
            )


@pytest.fixture(params=["runc", "crun", "jocker"])
def rt(
    request: pytest.FixtureRequest,
    runtime_argvs: dict[str, tuple[list[str] | None, str]],
    rootfs: Path,
    spec_template: dict[str, Any],
    tmp_path: Path,
) -> Iterator[Harness]:
    argv, reason = runtime_argvs[request.param]
    if argv is None:
        pytest.skip(reason)
    harness = Harness(OciRuntime(argv, tmp_path / "state"), request.param, tmp_path, rootfs, spec_template)
    try:
        yield harness
    finally:
        harness.cleanup()


@pytest.mark.root
async def test_lifecycle(rt: Harness) -> None:
    times: dict[str, float] = {}

    async def timed(step: str, coro: Any) -> Any:
        t0 = time.monotonic()
        result = await coro
        times[step] = time.monotonic() - t0
        return result

    cid = rt.new_id()
    bundle = rt.bundle("sleep", "1000")
    pid_file = rt.tmp / "init.pid"
    pid = await timed("create", rt.runtime.create(cid, bundle, pid_file=pid_file))
    assert pid > 0
    assert int(pid_file.read_text()) == pid

    state = await timed("state", rt.runtime.state(cid))
    assert state["id"] == cid
    assert state["status"] == "created"
    assert state["pid"] == pid
    assert state["bundle"] == str(bundle)
    assert Path(f"/proc/{pid}").exists()

    await timed("start", rt.runtime.start(cid))
    assert (await rt.runtime.state(cid))["status"] == "running"
    # the init really is busybox sleep now (it exec'd), not the runtime's set-up process
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", b"1000"]

    await timed("kill", rt.runtime.kill(cid, "KILL"))
    state = await rt.wait_status(cid, "stopped")
    await timed("delete", rt.runtime.delete(cid))
    with pytest.raises(OciRuntimeNotFoundError):
        await rt.runtime.state(cid)

    # Generous bounds: runc takes ~30 ms per verb here, a Python runtime a few hundred.
    for step, seconds in times.items():
        assert seconds < 10, f"{rt.name} {step} took {seconds:.2f}s"
    assert sum(times.values()) < 20, times


@pytest.mark.root
async def test_state_of_missing_container_is_not_found(rt: Harness) -> None:
    with pytest.raises(OciRuntimeNotFoundError) as info:
        await rt.runtime.state("jt-no-such-container")
    err = info.value
    assert isinstance(err, NotFoundError) and isinstance(err, OciRuntimeError)
    assert isinstance(err, RuntimeError) and err.status == 404
    assert err.exit_code != 0
    assert err.command[-2:] == ["state", "jt-no-such-container"]
    assert err.stderr_message


@pytest.mark.root
async def test_delete_running_is_conflict_and_force_works(rt: Harness) -> None:
    cid, _ = await rt.running("sleep", "1000")
    with pytest.raises(OciRuntimeConflictError) as info:
        await rt.runtime.delete(cid)
    assert isinstance(info.value, ConflictError) and info.value.status == 409
    assert (await rt.runtime.state(cid))["status"] == "running"
    await rt.runtime.delete(cid, force=True)
    with pytest.raises(NotFoundError):
        await rt.runtime.state(cid)


@pytest.mark.root
async def test_wrong_state_verbs_are_conflicts(rt: Harness) -> None:
    cid, _ = await rt.running("sleep", "1000")
    with pytest.raises(ConflictError):
        await rt.runtime.start(cid)  # already running
    with pytest.raises(ConflictError):
        await rt.runtime.create(cid, rt.bundle("true"))  # duplicate id
    await rt.runtime.kill(cid, 9)  # numeric signals are accepted too
    await rt.wait_status(cid, "stopped")
    with pytest.raises(ConflictError):
        await rt.runtime.kill(cid, "KILL")  # not running any more


@pytest.mark.root
async def test_create_hands_stdio_to_the_container(rt: Harness) -> None:
    out_path = rt.tmp / "out"
    with open(out_path, "wb") as out:
        cid, _ = await rt.create("sh", "-c", "echo hello from $(hostname)", stdout=out.fileno())
    await rt.runtime.start(cid)
    await rt.wait_status(cid, "stopped")
    assert out_path.read_text() == f"hello from {rt.template['hostname']}\n"


@pytest.mark.root
async def test_exec_echo(rt: Harness) -> None:
    cid, _ = await rt.running("sleep", "1000")
    process = {
        "args": ["echo", "hello", "exec"],
        "cwd": "/",
        "env": ["PATH=/bin"],
        "user": {"uid": 0, "gid": 0},
    }
    read_fd, write_fd = os.pipe()
    try:
        code = await rt.runtime.exec(cid, process, detach=False, stdout=write_fd)
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as r:
        assert r.read() == b"hello exec\n"
    assert code == 0

    failing = {**process, "args": ["sh", "-c", "exit 3"]}
    assert await rt.runtime.exec(cid, failing, detach=False) == 3

    pid = await rt.runtime.exec(cid, {**process, "args": ["sleep", "1000"]}, detach=True)
    assert pid > 0 and Path(f"/proc/{pid}").exists()
    assert pid in await rt.runtime.ps(cid)

    missing = {**process, "args": ["no-such-binary"]}
    with pytest.raises(OciRuntimeError):
        await rt.runtime.exec(cid, missing, detach=False)


@pytest.mark.root
async def test_ps_and_list(rt: Harness) -> None:
    cid, pid = await rt.running("sleep", "1000")
    assert await rt.runtime.ps(cid) == [pid]
    listed = {c["id"]: c for c in await rt.runtime.list()}
    assert listed[cid]["status"] == "running"
    assert listed[cid]["pid"] == pid


@pytest.mark.root
async def test_pause_resume(rt: Harness) -> None:
    cid, pid = await rt.running("sleep", "1000")
    await rt.runtime.pause(cid)
    assert (await rt.runtime.state(cid))["status"] == "paused"
    with open(f"/proc/{pid}/stat") as f:  # frozen tasks sleep in the freezer: D or S, never R
        assert f.read().rsplit(")", 1)[1].split()[0] in ("D", "S")
    await rt.runtime.resume(cid)
    assert (await rt.runtime.state(cid))["status"] == "running"
    if rt.name == "runc":  # crun 1.8 accepts a second resume/pause silently
        with pytest.raises(ConflictError):
            await rt.runtime.resume(cid)


@pytest.mark.root
async def test_update_and_stats(rt: Harness) -> None:
    cid, _ = await rt.running("sleep", "1000")
    await rt.runtime.update(cid, {"pids": {"limit": 42}})
    try:
        stats = await rt.runtime.events_stats(cid)
    except UnsupportedError:
        assert rt.name != "runc"
        return
    assert stats["pids"]["limit"] == 42
    assert stats["pids"]["current"] >= 1


@pytest.mark.root
async def test_features_and_version(rt: Harness) -> None:
    version = await rt.runtime.version()
    assert version and version[0].isdigit(), version
    try:
        features = await rt.runtime.features()
    except OciRuntimeUnsupportedError as e:  # crun 1.8 has no `features` verb
        assert rt.name != "runc", e
        return
    assert features["ociVersionMin"].startswith("1.")
    assert "poststart" in features.get("hooks", [])


# -- a fake runtime: argv order and error mapping, no root ------------------------------------------

FAKE = textwrap.dedent(
    """
    import json, os, sys, time
    args = sys.argv[1:]
    with open(os.environ["FAKE_RECORD"], "a") as f:
        f.write(json.dumps(args) + "\\n")
    mode = os.environ.get("FAKE_MODE", "ok")

    def flag(name):
        return args[args.index(name) + 1] if name in args else None

    if mode == "sleep":
        time.sleep(30)
    if mode == "fail-log":
        with open(flag("--log"), "a") as f:
            f.write(json.dumps({"level": "warning", "msg": "something odd"}) + "\\n")
            f.write(json.dumps({"level": "error", "msg": "container with given ID already exists"}) + "\\n")
        sys.exit(1)
    if mode.startswith("fail:"):
        sys.stderr.write(mode[5:] + "\\n")
        sys.exit(1)
    if mode == "exit3":
        sys.exit(3)
    if "--pid-file" in args:
        with open(flag("--pid-file"), "w") as f:
            f.write("4242")
    if "--process" in args:
        with open(os.environ["FAKE_RECORD"] + ".process", "w") as f:
            f.write(open(flag("--process")).read())
    if "--version" in args:
        print("fake-runtime version 9.8.7\\ncommit: x")
    elif "state" in args:
        print(json.dumps({"ociVersion": "1.0.2", "id": args[-1], "status": "running", "pid": 4242}))
    elif "list" in args:
        print("null")
    elif "ps" in args:
        print("[1, 2]")
    elif "events" in args:
        print(json.dumps({"type": "stats", "id": args[-1], "data": {"pids": {"current": 2}}}))
    elif "update" in args:
        with open(os.environ["FAKE_RECORD"] + ".stdin", "w") as f:
            f.write(sys.stdin.read())
    """
)


@dataclass
class Fake:
    runtime: OciRuntime
    record: Path
    root: Path

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.record.read_text().splitlines()]


@pytest.fixture
async def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Fake]:
    script = tmp_path / "fake_runtime.py"
    script.write_text(FAKE)
    record = tmp_path / "argv.jsonl"
    record.touch()
    monkeypatch.setenv("FAKE_RECORD", str(record))
    root = tmp_path / "root"
    yield Fake(OciRuntime([sys.executable, str(script)], root, timeout=10), record, root)


async def test_globals_come_before_the_verb(fake: Fake, tmp_path: Path) -> None:
    log = tmp_path / "runtime.log"
    rt = OciRuntime(fake.runtime.argv, fake.root, log=log, log_format="text")
    await rt.start("c1")
    await rt.kill("c1", "TERM", all=True)
    await rt.kill("c1", 15)
    await rt.delete("c1", force=True)
    await rt.pause("c1")
    await rt.resume("c1")
    root = str(fake.root)
    assert fake.calls() == [
        ["--root", root, "--log", str(log), "--log-format", "text", "start", "c1"],
        ["--root", root, "--log", str(log), "--log-format", "text", "kill", "--all", "c1", "TERM"],
        ["--root", root, "--log", str(log), "--log-format", "text", "kill", "c1", "15"],
        ["--root", root, "--log", str(log), "--log-format", "text", "delete", "--force", "c1"],
        ["--root", root, "--log", str(log), "--log-format", "text", "pause", "c1"],
        ["--root", root, "--log", str(log), "--log-format", "text", "resume", "c1"],
    ]


async def test_create_argv_and_pid(fake: Fake, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    pid = await fake.runtime.create("c1", bundle, console_socket=tmp_path / "console.sock", no_pivot=True)
    assert pid == 4242
    (call,) = fake.calls()
    # without a configured log, create gets a private one (its stdio belongs to the container)
    assert call[:3] == ["--root", str(fake.root), "--log"]
    assert call[4:6] == ["--log-format", "json"]
    verb = call[6:]
    assert verb[:3] == ["create", "--bundle", str(bundle)]
    assert verb[3] == "--pid-file" and verb[4].endswith("/pid")
    assert verb[5:] == ["--console-socket", str(tmp_path / "console.sock"), "--no-pivot", "c1"]
    assert not Path(verb[4]).exists(), "the scratch pid file is removed"

    own = tmp_path / "init.pid"
    assert await fake.runtime.create("c2", bundle, pid_file=own) == 4242
    assert own.read_text() == "4242"


async def test_create_error_comes_from_the_log(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "fail-log")
    with pytest.raises(OciRuntimeConflictError) as info:
        await fake.runtime.create("c1", Path("/b"))
    assert info.value.stderr_message == "container with given ID already exists"
    assert info.value.exit_code == 1
    assert str(info.value) == "OCI runtime create failed: container with given ID already exists"


async def test_configured_log_is_read_from_where_the_call_started(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "runtime.log"
    log.write_text(json.dumps({"level": "error", "msg": "container does not exist"}) + "\n")
    rt = OciRuntime(fake.runtime.argv, fake.root, log=log)
    monkeypatch.setenv("FAKE_MODE", "fail-log")
    with pytest.raises(ConflictError):  # the new entry, not the older "does not exist"
        await rt.create("c1", Path("/b"))


async def test_exec_writes_the_process_and_returns_pid_or_status(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = {"args": ["echo", "hi"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
    assert await fake.runtime.exec("c1", process) == 4242
    written = json.loads(Path(str(fake.record) + ".process").read_text())
    assert written == {**process, "terminal": False}
    verb = fake.calls()[0][6:]
    assert verb[0:2] == ["exec", "--process"] and verb[3] == "--detach" and verb[-1] == "c1"

    monkeypatch.setenv("FAKE_MODE", "exit3")  # attached: the process' status, no error in the log
    assert await fake.runtime.exec("c1", process, detach=False) == 3
    with pytest.raises(OciRuntimeInternalError):  # detached: any failure is the runtime's
        await fake.runtime.exec("c1", process, detach=True)


async def test_parsed_outputs(fake: Fake) -> None:
    assert (await fake.runtime.state("c1"))["status"] == "running"
    assert await fake.runtime.list() == []
    assert await fake.runtime.ps("c1") == [1, 2]
    assert await fake.runtime.events_stats("c1") == {"pids": {"current": 2}}
    assert await fake.runtime.version() == "9.8.7"
    assert fake.calls()[-1] == ["--version"]
    await fake.runtime.update("c1", {"pids": {"limit": 5}})
    assert json.loads(Path(str(fake.record) + ".stdin").read_text()) == {"pids": {"limit": 5}}
    assert fake.calls()[-1][-4:] == ["update", "--resources", "-", "c1"]


@pytest.mark.parametrize(
    ("stderr", "kind", "message"),
    [
        (
            'time="2026-11-25T09:52:52Z" level=error msg="container does not exist"',
            NotFoundError,
            "container does not exist",
        ),
        (
            'time="x" level=error msg="cannot delete container c1 that is not stopped: running"',
            ConflictError,
            "cannot delete container c1 that is not stopped: running",
        ),
        ("the container `c1` is not running", ConflictError, "the container `c1` is not running"),
        ("unknown command events", UnsupportedError, "unknown command events"),
        ("something broke", InternalError, "something broke"),
    ],
)
async def test_stderr_maps_to_error_kinds(
    fake: Fake, monkeypatch: pytest.MonkeyPatch, stderr: str, kind: type[JockerError], message: str
) -> None:
    monkeypatch.setenv("FAKE_MODE", "fail:" + stderr)
    with pytest.raises(kind) as info:
        await fake.runtime.state("c1")
    assert isinstance(info.value, OciRuntimeError)
    assert info.value.stderr_message == message
    assert info.value.command[-1] == "c1"


async def test_timeout_kills_the_runtime(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MODE", "sleep")
    rt = OciRuntime(fake.runtime.argv, fake.root, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(OciRuntimeInternalError, match="timed out"):
        await rt.state("c1")
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("container does not exist", OciRuntimeNotFoundError),
        ("error opening file `ROOT/c1/status`: No such file or directory", OciRuntimeNotFoundError),
        ("runc create failed: container with given ID already exists", OciRuntimeConflictError),
        ("container `c1` already exists", OciRuntimeConflictError),
        ("cannot start an already running container", OciRuntimeConflictError),
        ("the container `c1` is not in `created` or `stopped` state", OciRuntimeConflictError),
        ("cannot open `ROOT/c1/exec.fifo`: No such file or directory", OciRuntimeConflictError),
        ("kill container: No such process", OciRuntimeConflictError),
        ("container not paused", OciRuntimeConflictError),
        ("exec failed: cannot exec in a stopped container", OciRuntimeConflictError),
        ("cannot kill container c1: container is stopped", OciRuntimeConflictError),
        ('exec: "nope": executable file not found in $PATH', OciRuntimeInvalidParameterError),
        ("No help topic for 'features'", OciRuntimeUnsupportedError),
        ("open /b/config.json: no such file or directory", OciRuntimeInternalError),
    ],
)
def test_error_kind(message: str, kind: type[OciRuntimeError]) -> None:
    root = Path("/run/rt")
    assert error_kind(message.replace("ROOT", str(root)), root=root, id="c1") is kind


def test_error_kinds_are_jocker_errors() -> None:
    for cls, base in [
        (OciRuntimeNotFoundError, NotFoundError),
        (OciRuntimeConflictError, ConflictError),
        (OciRuntimeInvalidParameterError, InvalidParameterError),
        (OciRuntimeUnsupportedError, UnsupportedError),
        (OciRuntimeInternalError, InternalError),
    ]:
        err = cls(["runc", "state", "x"], 1, "boom", verb="state")
        assert isinstance(err, base) and isinstance(err, OciRuntimeError) and isinstance(err, RuntimeError)
        assert err.status == base.status


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"level":"warning","msg":"w"}\n{"level":"error","msg":"e1"}\n', "e1"),
        ('time="t" level=warning msg="careful"\ntime="t" level=error msg="say \\"hi\\""\n', 'say "hi"'),
        ("plain one\nplain two\n", "plain two"),
        ("", ""),
    ],
)
def test_parse_error_message(text: str, message: str) -> None:
    assert parse_error_message(text) == message
