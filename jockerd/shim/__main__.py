"""`jocker-shim` (`python -m jockerd.shim`): parse argv, fork the real shim, wait until it is ready.

The process the daemon starts forks the shim and only relays its readiness over a pipe:
`ready` → exit 0 (the shim goes on in its own session), `error` → the message on stderr and exit
1 (the shim has undone its mounts and exited). A usage error exits 2. The flags are in the
contract, jockerd/shim/__init__.py, which `--help` prints.

Start-up is on every `docker run`'s path: this imports only `os`, `sys` and `gc` before the fork,
and the shim itself only cheap stdlib modules (no `json`, `re`, `socket`, `signal`, `asyncio`;
see supervisor.py and stdio.py). Measure with `python -X importtime -m jockerd.shim --help`.
"""

from __future__ import annotations

import gc
import os
import sys

from jockerd.shim.supervisor import Options, ShimError, Supervisor

_VALUES = {
    "--id": "id",
    "--exec-id": "exec_id",
    "--bundle": "bundle",
    "--state-dir": "state_dir",
    "--runtime": "runtime",
    "--runtime-root": "runtime_root",
    "--process": "process",
    "--log-path": "log_path",
    "--log-max-size": "log_max_size",
    "--log-max-file": "log_max_file",
    "--console-size": "console_size",
    "--ports": "ports",
}
_SWITCHES = {
    "--tty": "tty",
    "--stdin": "stdin",
    "--stdin-once": "stdin_once",
    "--runtime-in-process": "runtime_in_process",
}
_PATHS = ("bundle", "state_dir", "runtime_root", "process", "log_path", "ports")


class UsageError(Exception):
    pass


def parse(argv: list[str]) -> Options | None:
    """The options of a command line; None for --help. UsageError says what is wrong."""
    o = Options()
    values: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg in ("-h", "--help"):
            return None
        if arg in _SWITCHES:
            setattr(o, _SWITCHES[arg], True)
            continue
        flag, eq, value = arg.partition("=")
        if flag in _VALUES:
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: {flag}")
                value = argv[i]
                i += 1
            values[_VALUES[flag]] = value
        elif arg.startswith("-"):
            raise UsageError(f"unknown flag: {arg}")
        elif not o.mode:
            o.mode = arg
        else:
            raise UsageError(f"unexpected argument: {arg}")
    if o.mode not in ("start", "exec"):
        raise UsageError(f"mode must be start or exec, not {o.mode!r}" if o.mode else "missing mode")
    required = ["id", "bundle", "state_dir", "runtime", "runtime_root"]
    if o.mode == "exec":
        required.append("process")
    missing = [f"--{name.replace('_', '-')}" for name in required if not values.get(name)]
    if missing:
        raise UsageError(f"missing flags: {' '.join(missing)}")
    for name in _PATHS:
        if name in values and not values[name].startswith("/"):
            raise UsageError(f"--{name.replace('_', '-')} must be an absolute path: {values[name]}")
    for name in ("id", "exec_id", "bundle", "state_dir", "runtime_root", "process", "log_path", "ports"):
        if name in values:
            setattr(o, name, values[name])
    from jockerd.runtime import fastjson

    try:
        o.runtime = fastjson.loads(values["runtime"])  # type: ignore[assignment]
    except ValueError:
        o.runtime = []
    if not (isinstance(o.runtime, list) and o.runtime and all(isinstance(a, str) and a for a in o.runtime)):
        raise UsageError(f"--runtime must be a JSON list of strings: {values['runtime']}")
    try:
        o.log_max_size = int(values.get("log_max_size", "0"))
        o.log_max_file = int(values.get("log_max_file", "1"))
        if "console_size" in values:
            height, width = values["console_size"].split(",")
            o.console_size = (int(height), int(width))
    except ValueError as e:
        raise UsageError(f"invalid number: {e}") from None
    if o.log_max_size < 0 or o.log_max_file < 1:
        raise UsageError("--log-max-size must be >= 0 and --log-max-file >= 1")
    return o


def main(argv: list[str] | None = None) -> int:
    """The entry point. As the process's own (no `argv`), it ends with os._exit: nothing needs
    the interpreter's finalization, and the forked shim must never run it."""
    code = _main(sys.argv[1:] if argv is None else argv)
    if argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str]) -> int:
    gc.disable()
    if argv[:1] == ["zygote"]:
        if len(argv) != 3 or argv[1] != "--socket":
            sys.stderr.write("usage: jocker-shim zygote --socket PATH\n")
            return 2
        from jockerd.shim import zygote

        return zygote.serve(argv[2])
    try:
        options = parse(argv)
    except UsageError as e:
        sys.stderr.write(f"jocker-shim: {e}\nRun 'jocker-shim --help' for usage.\n")
        return 2
    if options is None:
        sys.stdout.write(sys.modules["jockerd.shim"].__doc__ or "")
        return 0
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        try:
            _shim(options, ready_w)
        finally:
            os._exit(1)
    os.close(ready_w)
    chunks = []
    while chunk := os.read(ready_r, 65536):
        chunks.append(chunk)
    os.close(ready_r)
    status, _, message = b"".join(chunks).partition(b"\n")
    if status == b"ready":
        return 0
    text = message.decode(errors="replace").strip() or "jocker-shim exited before it was ready"
    sys.stderr.write(text + "\n")
    return 1


def _shim(options: Options, ready: int) -> None:
    """The forked shim: its own session, stdio on /dev/null, cwd /; never returns."""
    # Nothing inherited but the readiness pipe: a zygote's fork still holds its connection.
    os.closerange(3, ready)
    os.closerange(ready + 1, 1 << 20)
    os.setsid()
    import _signal

    # What the shim was started with ignored (jockerd under nohup, or from a background shell:
    # SIGHUP, SIGINT, SIGQUIT) would survive every exec, into the container's processes.
    # SIGPIPE and SIGXFSZ are Python's own; spawn() resets them in the runtime's child.
    for signum in range(1, 65):
        if signum not in (9, 13, 19, 25):
            try:
                if _signal.getsignal(signum) == _signal.SIG_IGN:
                    _signal.signal(signum, _signal.SIG_DFL)
            except (OSError, ValueError):
                pass  # glibc's reserved 32 and 33
    _signal.signal(2, _signal.SIG_IGN)  # SIGINT: see supervisor.py
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
    os.chdir("/")
    try:
        supervisor = Supervisor(options)
        supervisor.prepare()
    except ShimError as e:
        _report(ready, b"error\n" + str(e).encode())
        os._exit(1)
    except BaseException as e:
        _report(ready, f"error\njocker-shim: {type(e).__name__}: {e}".encode())
        os._exit(1)
    _report(ready, b"ready\n")
    gc.enable()  # a long life from here on
    supervisor.serve()
    os._exit(0)


def _report(fd: int, message: bytes) -> None:
    try:
        os.write(fd, message)
    finally:
        os.close(fd)


if __name__ == "__main__":
    main()
