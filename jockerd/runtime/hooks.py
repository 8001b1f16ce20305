"""Run OCI hooks: the container's state JSON on stdin, an optional timeout, output captured.

Where each kind runs (config.md "POSIX-platform Hooks"), and what a failure does here:

| hook            | run by   | namespaces | when                               | on failure            |
|-----------------|----------|------------|------------------------------------|-----------------------|
| prestart        | launcher | runtime    | create: mounts done, before pivot  | create fails          |
| createRuntime   | launcher | runtime    | right after prestart               | create fails          |
| createContainer | init     | container  | after createRuntime, before pivot  | create fails          |
| startContainer  | init     | container  | start: after exec.fifo, pre-execve | init exits 1          |
| poststart       | `start`  | runtime    | after the fifo is read             | start fails, killed   |
| poststop        | `delete` | runtime    | after the resources are gone       | warning only          |

A failing poststart hook kills the container and fails `start` (current spec lifecycle step 9,
and runc); the runtime-tools suite's v1.1.0 reading (warning only) is not followed.

A hook that exits without reading stdin is fine (EPIPE is ignored: crun died of SIGPIPE there).
fork + execve by hand rather than `subprocess`, whose import alone costs ~25 ms per start.
"""

from __future__ import annotations

import os
import time

from jockerd.runtime import fastjson, log
from jockerd.runtime.errors import ContainerError


def run_hooks(hooks: list[dict] | None, state: dict) -> None:
    """Run `hooks` in order; the first failure raises ContainerError."""
    if not hooks:
        return
    data = fastjson.dumps(state).encode()
    for index, hook in enumerate(hooks):
        run_hook(hook, data, index)


def run_hooks_warn(hooks: list[dict] | None, state: dict) -> None:
    """Run all `hooks`, logging failures as warnings (poststop)."""
    data = fastjson.dumps(state).encode()
    for index, hook in enumerate(hooks or ()):
        try:
            run_hook(hook, data, index)
        except ContainerError as e:
            log.warning(str(e))


def run_hook(hook: dict, data: bytes, index: int) -> None:
    path = hook.get("path") or ""
    args = hook.get("args") or [path]
    env = {}
    for entry in hook.get("env") or ():
        key, _, value = entry.partition("=")
        env[key] = value
    timeout = hook.get("timeout")
    if timeout is not None and timeout <= 0:
        raise ContainerError(f"error running hook #{index}: timeout must be greater than zero")
    stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the hook: stdio from our pipes, default signal dispositions, then exec
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            restore_signals()
            os.execve(path, args, env)
        except BaseException as e:
            os.write(2, f"exec {path}: {e}".encode())
        finally:
            os._exit(127)
    for fd in (stdin_r, out_w, err_w):
        os.close(fd)
    try:
        os.write(stdin_w, data)
    except (BrokenPipeError, BlockingIOError):
        pass  # the hook does not read its stdin
    finally:
        os.close(stdin_w)
    try:
        status, out, err = _wait(pid, out_r, err_r, timeout)
    finally:
        os.close(out_r)
        os.close(err_r)
    if status is None:
        raise ContainerError(f"error running hook #{index}: timeout after {timeout} seconds")
    if status != 0:
        code = os.waitstatus_to_exitcode(status)
        what = f"exit status {code}" if code >= 0 else f"signal: {-code}"
        raise ContainerError(
            f"error running hook #{index}: {what}, stdout: {out.decode(errors='replace')}, "
            f"stderr: {err.decode(errors='replace')}"
        )


def _wait(pid: int, out_r: int, err_r: int, timeout: float | None) -> tuple[int | None, bytes, bytes]:
    """Collect the hook's output until it exits; (wait status or None on timeout, stdout, stderr)."""
    import select

    deadline = None if timeout is None else time.monotonic() + timeout
    pidfd = os.pidfd_open(pid)
    output = {out_r: b"", err_r: b""}
    poller = select.poll()
    for fd in (out_r, err_r, pidfd):
        poller.register(fd, select.POLLIN)
    try:
        exited = False
        while not exited:
            left = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            events = poller.poll(left)
            if not events and left == 0:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                return None, output[out_r], output[err_r]
            for fd, _ in events:
                if fd == pidfd:
                    exited = True
                    continue
                chunk = os.read(fd, 65536)
                if chunk:
                    output[fd] += chunk
                else:
                    poller.unregister(fd)
        for fd in (out_r, err_r):  # drain what the hook wrote before exiting, without blocking
            os.set_blocking(fd, False)
            try:
                while chunk := os.read(fd, 65536):
                    output[fd] += chunk
            except BlockingIOError:
                pass
        _, status = os.waitpid(pid, 0)
        return status, output[out_r], output[err_r]
    finally:
        os.close(pidfd)


def restore_signals() -> None:
    """Undo Python's start-up SIG_IGN of SIGPIPE and SIGXFSZ: ignored signals survive execve."""
    import _signal  # `signal` would import `enum`

    for signum in (13, 25):  # SIGPIPE, SIGXFSZ
        _signal.signal(signum, _signal.SIG_DFL)
