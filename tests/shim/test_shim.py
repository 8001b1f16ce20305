"""jocker-shim with real runtimes (jocker-runtime and runc) on busybox bundles, through ShimClient.

Each test starts real shims (root: mounts, namespaces, cgroups). The daemon's part is played by
the test: ShimClient for the shim, OciRuntime for `start`/`kill`. After a container ends, the
shim must have left nothing: no mount on the rootfs, no runtime state, no cgroup.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from jockerd.driver.oci_runtime import OciRuntimeError
from jockerd.driver.shim_client import ExitStatus, ShimClient, ShimOptions
from jockerd.errors import JockerError
from jockerd.shim import stdcopy
from tests.shim.conftest import REPO, Containers, cgroup_dirs, mount_points

pytestmark = [pytest.mark.root, pytest.mark.timeout(60)]


async def read_frames(reader: asyncio.StreamReader, timeout: float = 20) -> tuple[bytes, bytes]:
    """Everything until EOF, demultiplexed into (stdout, stderr)."""
    return stdcopy.demux(await asyncio.wait_for(reader.read(), timeout))


async def read_until(
    reader: asyncio.StreamReader, decoder: stdcopy.FrameDecoder, seen: bytearray, needle: bytes
) -> None:
    """Read frames into `seen` until it contains `needle`."""
    while needle not in seen:
        data = await asyncio.wait_for(reader.read(65536), 20)
        assert data, f"EOF before {needle!r}; got {bytes(seen)!r}"
        for _, payload in decoder.feed(data):
            seen += payload


def log_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def wait_gone(client: ShimClient) -> None:
    deadline = time.monotonic() + 10
    while client.shim_alive():
        assert time.monotonic() < deadline, "the shim did not exit"
        await asyncio.sleep(0.01)


async def assert_cleaned_up(containers: Containers, options: ShimOptions, client: ShimClient) -> None:
    """After the exit file: no mount on the rootfs, no runtime state, no cgroup, no shim."""
    await wait_gone(client)
    assert str(Path(options.bundle) / "rootfs") not in mount_points()
    assert await containers.oci().list() == []
    assert [d for d in cgroup_dirs(options.container_id) if d.exists()] == []


async def start(options: ShimOptions, shim_argv: list[str]) -> ShimClient:
    return await ShimClient.start(options, shim_argv=shim_argv)


async def test_output_reaches_attach_and_log(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["sh", "-c", "echo out; echo err >&2; printf tail; exit 3"])
    client = await start(o, shim_argv)
    assert client.shim_alive()
    assert str(Path(o.bundle) / "rootfs") in mount_points()
    assert any(d.exists() for d in cgroup_dirs(o.container_id))
    reader, _ = await client.attach(stdin=False, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    out, err = await read_frames(reader)
    assert (out, err) == (b"out\ntail", b"err\n")
    status = await client.wait()
    assert (status.exit_code, status.oom_killed, status.error) == (3, False, "")
    assert status.finished_at.endswith("Z")
    entries = log_entries(Path(o.log_path))
    by_stream = {s: [e["log"] for e in entries if e["stream"] == s] for s in ("stdout", "stderr")}
    assert by_stream == {"stdout": ["out\n", "tail"], "stderr": ["err\n"]}
    assert [list(e) for e in entries] == [["log", "stream", "time"]] * 3
    await assert_cleaned_up(containers, o, client)
    assert client.exit_status() == status


async def test_process_ignores_no_signals(containers: Containers, shim_argv: list[str]) -> None:
    """Python ignores SIGPIPE and SIGXFSZ and the shim SIGINT, and a daemon started by nohup or
    from a background shell has SIGHUP and SIGQUIT ignored: the container inherits none of it."""
    o = containers.options(["grep", "SigIgn", "/proc/self/status"])
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGHUP, signal.SIGQUIT)}
    try:
        client = await start(o, shim_argv)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    reader, _ = await client.attach(stdin=False, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    assert await read_frames(reader) == (b"SigIgn:\t0000000000000000\n", b"")
    assert (await client.wait()).exit_code == 0


async def test_exit_by_signal_is_128_plus_signal(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["sleep", "1000"], log_path=None)
    client = await start(o, shim_argv)
    oci = containers.oci()
    await oci.start(o.container_id)
    await oci.kill(o.container_id, "KILL")
    status = await client.wait()
    assert status.exit_code == 137
    await assert_cleaned_up(containers, o, client)


async def test_stdin_megabyte_round_trips(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["cat"], stdin=True, stdin_once=True)
    client = await start(o, shim_argv)
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    payload = os.urandom(1 << 20)

    async def feed() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    (out, err), _ = await asyncio.gather(read_frames(reader), feed())
    digest = hashlib.sha256(payload).hexdigest()
    assert (hashlib.sha256(out).hexdigest(), len(out), err) == (digest, len(payload), b"")
    assert (await client.wait()).exit_code == 0
    await assert_cleaned_up(containers, o, client)


async def test_backpressure_loses_nothing(jocker_containers: Containers, shim_argv: list[str]) -> None:
    """A client that reads late: output and stdin both stop at the high-water marks and resume."""
    o = jocker_containers.options(["cat"], stdin=True, stdin_once=True, log_path=None)
    client = await start(o, shim_argv)
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=False)
    await jocker_containers.oci().start(o.container_id)
    payload = os.urandom(6 << 20)

    async def feed() -> None:
        writer.write(payload)
        await writer.drain()
        writer.write_eof()

    async def late_reader() -> tuple[bytes, bytes]:
        await asyncio.sleep(0.5)
        return await read_frames(reader)

    (out, _), _ = await asyncio.gather(late_reader(), feed())
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert (await client.wait()).exit_code == 0


async def test_close_stdin_after_what_was_sent(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["cat"], stdin=True, log_path=None)
    client = await start(o, shim_argv)
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=False)
    await containers.oci().start(o.container_id)
    writer.write(b"x" * 300_000)
    await writer.drain()
    await client.close_stdin()
    out, _ = await read_frames(reader)
    assert out == b"x" * 300_000
    assert (await client.wait()).exit_code == 0


async def test_many_lines_complete_and_in_order(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["seq", "1", "200000"])
    client = await start(o, shim_argv)
    reader, _ = await client.attach(stdin=False, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    expected = "".join(f"{i}\n" for i in range(1, 200001))
    out, err = await read_frames(reader)
    assert (out.decode(), err) == (expected, b"")
    assert (await client.wait()).exit_code == 0
    entries = log_entries(Path(o.log_path))
    assert len(entries) == 200000
    assert "".join(e["log"] for e in entries) == expected
    assert {e["stream"] for e in entries} == {"stdout"}


async def test_tty_size_and_resize(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(
        ["sh", "-c", "stty size; read x; stty size"], tty=True, stdin=True, console_size=(24, 80)
    )
    client = await start(o, shim_argv)
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    decoder, seen = stdcopy.FrameDecoder(), bytearray()
    await read_until(reader, decoder, seen, b"24 80\r\n")
    await client.resize(30, 100)
    writer.write(b"\n")
    await writer.drain()
    await read_until(reader, decoder, seen, b"30 100\r\n")
    assert await asyncio.wait_for(reader.read(), 10) == b""
    assert (await client.wait()).exit_code == 0
    assert {e["stream"] for e in log_entries(Path(o.log_path))} == {"stdout"}
    await assert_cleaned_up(containers, o, client)


async def test_create_failure_is_clean(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["/no/such/binary"])
    with pytest.raises(OciRuntimeError) as caught:
        await start(o, shim_argv)
    assert isinstance(caught.value, JockerError)
    assert "/no/such/binary" in caught.value.stderr_message
    assert caught.value.verb == "create"
    client = ShimClient.adopt(o.state_dir)
    await wait_gone(client)
    assert client.exit_status() is None
    assert not (Path(o.state_dir) / "init.pid").exists()
    assert str(Path(o.bundle) / "rootfs") not in mount_points()
    assert await containers.oci().list() == []
    assert [d for d in cgroup_dirs(o.container_id) if d.exists()] == []


async def test_exec_runs_in_the_container(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["sleep", "1000"])
    client = await start(o, shim_argv)
    oci = containers.oci()
    await oci.start(o.container_id)
    e = exec_options(o, ["sh", "-c", "echo exec-out; echo exec-err >&2; exit 5"])
    exec_client = await start(e, shim_argv)
    assert exec_client.pid != client.pid
    reader, _ = await exec_client.attach(stdin=False, stdout=True, stderr=True)
    assert await read_frames(reader) == (b"exec-out\n", b"exec-err\n")
    assert (await exec_client.wait()).exit_code == 5
    assert not exec_client.shim_alive() or await wait_gone(exec_client) is None
    # the container is untouched by its exec's end
    assert (await oci.state(o.container_id))["status"] == "running"
    assert [e["log"] for e in log_entries(Path(o.log_path))] == []
    await oci.kill(o.container_id, "KILL")
    assert (await client.wait()).exit_code == 137
    await assert_cleaned_up(containers, o, client)


def exec_options(o: ShimOptions, args: list[str], **kw) -> ShimOptions:
    """An exec of `args` in the container of `o`, its state dir too long for a socket path."""
    spec = json.loads((Path(o.bundle) / "config.json").read_text())
    exec_id = uuid.uuid4().hex * 2
    state_dir = Path(o.state_dir) / "exec" / exec_id
    assert len(str(state_dir / "control.sock")) > 107
    return ShimOptions(
        container_id=o.container_id,
        bundle=o.bundle,
        state_dir=state_dir,
        runtime_argv=o.runtime_argv,
        runtime_root=o.runtime_root,
        exec_id=exec_id,
        process={**spec["process"], "args": args},
        **kw,
    )


async def test_exec_with_tty_and_detached(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["sleep", "1000"], log_path=None)
    client = await start(o, shim_argv)
    oci = containers.oci()
    await oci.start(o.container_id)
    # a tty through a console socket reached by /proc/PID/fd (the state dir is too long)
    e = exec_options(o, ["sh", "-c", "stty size; seq 1 30000 | tail -n 1"], tty=True, console_size=(7, 9))
    exec_client = await start(e, shim_argv)
    reader, _ = await exec_client.attach(stdin=False, stdout=True, stderr=True)
    assert await read_frames(reader) == (b"7 9\r\n30000\r\n", b"")
    assert (await exec_client.wait()).exit_code == 0
    # detached: an attach with no streams releases the output at once (100 KiB: more than a pipe)
    e = exec_options(o, ["sh", "-c", "seq 1 20000; exit 4"])
    detached = await start(e, shim_argv)
    started = time.monotonic()
    reader, writer = await detached.attach(stdin=False, stdout=False, stderr=False)
    writer.close()
    assert (await detached.wait()).exit_code == 4
    assert time.monotonic() - started < 2
    await oci.kill(o.container_id, "KILL")
    assert (await client.wait()).exit_code == 137
    await assert_cleaned_up(containers, o, client)


async def test_missing_runtime_binary(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["true"])
    o.runtime_argv = ["/no/such/runtime"]
    with pytest.raises(JockerError, match="cannot run the runtime /no/such/runtime: No such file"):
        await start(o, shim_argv)
    assert str(Path(o.bundle) / "rootfs") not in mount_points()


async def test_bad_log_path_fails_before_create(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["true"])
    o.log_path = Path(o.state_dir).parent / "no" / "such" / "dir" / "log"
    with pytest.raises(JockerError, match="container log"):
        await start(o, shim_argv)
    assert str(Path(o.bundle) / "rootfs") not in mount_points()
    assert await containers.oci().list() == []


async def test_attach_after_exit_reads_eof(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["true"], log_path=None)
    client = await start(o, shim_argv)
    await containers.oci().start(o.container_id)
    assert (await client.wait()).exit_code == 0
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=True)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


@pytest.mark.parametrize("max_file", [1, 3])
async def test_log_rotation(jocker_containers: Containers, shim_argv: list[str], max_file: int) -> None:
    script = "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"
    o = jocker_containers.options(["sh", "-c", script], log_max_size=2000, log_max_file=max_file)
    client = await start(o, shim_argv)
    await jocker_containers.oci().start(o.container_id)
    assert (await client.wait()).exit_code == 0
    log = Path(o.log_path)
    files = [Path(f"{log}.{i}") for i in range(max_file - 1, 0, -1)] + [log]
    assert all(f.exists() for f in files)
    assert not Path(f"{log}.{max_file}").exists()
    lines = [e["log"] for f in files for e in log_entries(f)]
    first = int(lines[0][len("line-") : -1])
    assert lines == [f"line-{i}\n" for i in range(first, 300)]
    assert all(f.stat().st_size < 2000 + 100 for f in files)


async def test_oom_kill_is_reported(containers: Containers, shim_argv: list[str]) -> None:
    def limit(spec: dict) -> None:
        spec["linux"]["resources"] = {"memory": {"limit": 16 << 20, "swap": 16 << 20}}

    o = containers.options(["sh", "-c", "x=a; while true; do x=$x$x; done"], edit=limit, log_path=None)
    client = await start(o, shim_argv)
    await containers.oci().start(o.container_id)
    status = await client.wait()
    assert (status.exit_code, status.oom_killed) == (137, True)
    await assert_cleaned_up(containers, o, client)


THROWAWAY = """
import asyncio, json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from jockerd.driver.shim_client import ShimClient, ShimOptions
raw = json.loads(sys.argv[2])
for key in ("bundle", "state_dir", "runtime_root"):
    raw[key] = Path(raw[key])
asyncio.run(ShimClient.start(ShimOptions(**raw), shim_argv=json.loads(sys.argv[3])))
print("started", flush=True)
time.sleep(1000)
"""


async def test_shim_outlives_its_starter(containers: Containers, shim_argv: list[str]) -> None:
    """The process that started the shim gets SIGINT to its group, then SIGKILL: the shim
    goes on, is adopted, and finishes the container's life on its own."""
    o = containers.options(["sh", "-c", "read line; echo got-$line"], stdin=True, stdin_once=True)
    raw = {
        "container_id": o.container_id,
        "bundle": str(o.bundle),
        "state_dir": str(o.state_dir),
        "runtime_argv": o.runtime_argv,
        "runtime_root": str(o.runtime_root),
        "mounts": o.mounts,
        "log_path": None,
        "stdin": True,
        "stdin_once": True,
    }
    starter = subprocess.Popen(
        [sys.executable, "-c", THROWAWAY, str(REPO), json.dumps(raw), json.dumps(shim_argv)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert starter.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(starter.stdout.readline), 20)
        assert line == b"started\n"
        os.killpg(starter.pid, signal.SIGINT)
        os.killpg(starter.pid, signal.SIGKILL)
    finally:
        starter.kill()
        starter.wait()
    client = ShimClient.adopt(o.state_dir)
    assert client.shim_alive()
    waiter = asyncio.ensure_future(client.wait())
    reader, writer = await client.attach(stdin=True, stdout=True, stderr=True)
    await containers.oci().start(o.container_id)
    writer.write(b"hello\n")
    writer.write_eof()
    assert await read_frames(reader) == (b"got-hello\n", b"")
    status = await asyncio.wait_for(waiter, 20)
    assert status.exit_code == 0
    await assert_cleaned_up(containers, o, client)


async def test_wait_reports_a_killed_shim(containers: Containers, shim_argv: list[str]) -> None:
    o = containers.options(["sleep", "1000"], log_path=None)
    client = await start(o, shim_argv)
    waiter = asyncio.ensure_future(client.wait())
    await asyncio.sleep(0.05)
    shim_pid = int((Path(o.state_dir) / "shim.pid").read_text().split()[0])
    os.kill(shim_pid, signal.SIGKILL)
    status = await asyncio.wait_for(waiter, 10)
    assert isinstance(status, ExitStatus)
    assert (status.exit_code, status.error) == (255, "shim died")
