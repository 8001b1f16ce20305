"""The tenant process of `exec`: a new process inside a running container's namespaces.

Forked by the exec intermediate after it moved itself into the container's cgroup (the
launcher moves the tenant where it cannot: cgroup v2, a hybrid host's unified hierarchy) and
joined every namespace of the container's init (`/proc/<init pid>/ns/*`, user first); the fork
is what makes the pid namespace apply. No rootfs work: the mount namespace is the container's
already (setns(CLONE_NEWNS) also moved our root and cwd to the namespace's root, i.e. the
pivoted one).

The steps are the init's from the console on, minus what belongs to the container as a whole
(hostname, sysctls, mounts, exec.fifo).
"""

from __future__ import annotations

from jockerd.runtime import init_process as steps
from jockerd.runtime.errors import ContainerError


def session(ctx: steps.ProcessContext) -> None:
    """Only a terminal needs its own session (to become its controlling process); otherwise the
    tenant stays in the caller's process group like any child (runc)."""
    if ctx.process.get("terminal"):
        ctx.sys.setsid()


def console(ctx: steps.ProcessContext) -> None:
    """The pty comes from the container's devpts; no /dev/console bind (that is the init's)."""
    if ctx.process.get("terminal"):
        from jockerd.runtime import terminal

        if ctx.console_fd < 0:
            raise ContainerError("a terminal was requested but there is no console socket")
        terminal.setup_console(ctx.console_fd, ctx.process.get("consoleSize"), ctx.sys, console=False)
        ctx.sys.close(ctx.console_fd)
        ctx.console_fd = -1


TENANT_STEPS = (
    steps.close_fds,
    steps.join_cgroup,
    session,
    console,
    steps.rlimits,
    steps.no_new_privileges,
    steps.seccomp_filter,
    steps.identity,
    steps.umask,
    steps.working_directory,
    steps.resolve_executable,
    steps.report_ready,
    steps.restore_signals,
    steps.seccomp_last,
    steps.exec_program,
)


def run(ctx: steps.ProcessContext) -> None:
    steps.run(ctx, TENANT_STEPS)
