"""`jocker-runtime` (`python -m jockerd.runtime`): argv → `cli.parse` → a verb in `commands`.

Exit status: the verb's (0, or the container's for `run`/`exec` in the foreground); 1 for any
error, with the message logged (stderr by default) as runc does; 3 for an unknown command.
"""

from __future__ import annotations

import gc
import os
import sys

from jockerd.runtime import cli, commands, log
from jockerd.runtime.errors import ContainerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

DISPATCH = {
    "create": commands.create,
    "start": commands.start,
    "run": commands.run,
    "state": commands.state,
    "kill": commands.kill,
    "delete": commands.delete,
    "exec": commands.exec,
    "list": commands.list_,
    "ps": commands.ps,
    "pause": commands.pause,
    "resume": commands.resume,
    "events": commands.events,
    "update": commands.update,
    "spec": commands.spec,
    "features": commands.features,
}
# runc prefixes the errors of these verbs ("runc create failed: ...").
_PREFIXED = {"create", "run"}


def main(argv: list[str] | None = None, *, before_exit: Callable[[], None] | None = None) -> int:
    """The entry point. As the process's own (no `argv`: the console script, `-m`), it ends the
    process itself once stdout and stderr are flushed: the interpreter's finalization (module
    teardown, ~10 ms here) has nothing to do for a runtime whose files are closed and whose
    children are gone or detached. If a flush fails, the interpreter's exit reports it as usual.
    `before_exit` runs first either way (the launcher saves its `codecache` there)."""
    code = _main(argv)
    if before_exit is not None:
        before_exit()
    if argv is None and (code is None or type(code) is int):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            return code
        os._exit(code or 0)
    return code


def _main(argv: list[str] | None) -> int:
    # A short-lived process that creates no garbage cycles worth collecting: the collector only
    # costs time (~5 ms of a `run`, mostly during imports). The children inherit the setting.
    gc.disable()
    argv = sys.argv[1:] if argv is None else argv
    try:
        invocation = cli.parse(argv)
    except cli.UsageError as e:
        if e.exit_code == 3:
            sys.stderr.write(f"{e}\n")
        else:
            sys.stderr.write("Incorrect Usage. " + str(e) + "\n\n" + cli.format_help(e.command))
            log.error(f"jocker-runtime: {e}")
        return e.exit_code
    g = invocation.global_opts
    if invocation.command is None:
        if g.version:
            sys.stdout.write(f"jocker-runtime version {cli.VERSION}\nspec: {cli.SPEC_VERSION}\n")
        else:
            sys.stdout.write(cli.format_help())
        return 0
    if invocation.command == "help":
        topic = invocation.opts.args[0] if invocation.opts and invocation.opts.args else None
        sys.stdout.write(cli.format_help(topic))
        return 0
    try:
        log.configure(g.log, g.log_format, g.debug)
    except OSError as e:
        sys.stderr.write(f"jocker-runtime: cannot open log file {g.log}: {e.strerror}\n")
        return 1
    if g.systemd_cgroup:
        log.warning("--systemd-cgroup is not supported: using cgroupfs")
    prefix = f"jocker-runtime {invocation.command} failed: " if invocation.command in _PREFIXED else ""
    try:
        return DISPATCH[invocation.command](g, invocation.opts)
    except ContainerError as e:
        log.fatal(prefix + str(e))
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # OSError, CgroupError, SeccompError: one line, like runc, no traceback
        log.fatal(prefix + (str(e) or type(e).__name__))
        return 1


if __name__ == "__main__":
    sys.exit(main())
