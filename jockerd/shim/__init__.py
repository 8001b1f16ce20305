"""jocker-shim: the per-container supervisor (conmon's model, containerd's rootfs step).

One shim process runs per container *run* (and one per exec session). It is started by
the daemon's ShimClient, detaches into its own session, and outlives jockerd: the daemon talks to
it only through the files and sockets below, so a restarted daemon re-adopts it from them.

argv (all paths absolute; `jocker-shim --help` prints the same):

| flag                         | meaning                                                             |
|------------------------------|---------------------------------------------------------------------|
| `start` / `exec`             | mode: a container's init process, or a tenant process (exec)        |
| `--id ID`                    | container ID (runtime ID)                                           |
| `--exec-id EID`              | exec mode: the exec session's ID                                    |
| `--bundle DIR`               | the OCI bundle (config.json; rootfs/ is mounted here in start mode) |
| `--state-dir DIR`            | the shim's directory: exec_root/shim/ID (exec: .../exec/EID)        |
| `--runtime JSON`             | argv of the runtime as a JSON list, e.g. `["/usr/sbin/runc"]`       |
| `--runtime-root DIR`         | the runtime's `--root`                                              |
| `--process FILE`             | exec mode: runtime-spec Process JSON (the daemon's process.json)    |
| `--log-path FILE`            | json-file log (start mode); absent: no log                          |
| `--log-max-size N`           | rotate at N bytes (0: never)                                        |
| `--log-max-file N`           | keep N files (FILE, FILE.1 …)                                       |
| `--tty`                      | a pty through --console-socket instead of pipes                     |
| `--stdin`                    | keep a stdin pipe (OpenStdin); else the process gets /dev/null      |
| `--stdin-once`               | close the process's stdin when the first attached stdin closes      |
| `--console-size H,W`         | initial pty size                                                    |
| `--ports FILE`               | start mode: the published ports (the daemon's ports.json), proxied  |
|                              | by the shim (ports.py); absent: nothing is published                |

Files in the state dir:

| file           | written by | content                                                                  |
|----------------|------------|--------------------------------------------------------------------------|
| `mounts.json`  | daemon     | start mode: OCI mounts (list) mounted on BUNDLE/rootfs before create     |
|                |            | (in order, stacked; absent or empty: nothing is mounted)                 |
| `process.json` | daemon     | exec mode: the runtime-spec Process given as --process                   |
| `ports.json`   | daemon     | start mode, with --ports: {"endpoint": "NAME (ID)", "bindings": [{"proto",|
|                |            | "host_ip", "host_port", "host_port_end", "container_port"}]}             |
| `published.json` | shim     | with --ports, before readiness: what is bound, [{"proto", "host_ip",     |
|                |            | "host_port", "container_port"}] (host_port: the one picked, if it was 0) |
| `shim.pid`     | shim       | `PID STARTTIME` (starttime = field 22 of /proc/PID/stat)                 |
| `init.pid`     | shim       | `PID STARTTIME` of the container's process (or the exec'd process)       |
| `exit`         | shim       | JSON {"exit_code", "oom_killed", "finished_at", "error"}, atomically,    |
|                |            | written last: after stdio drained, runtime `delete`, rootfs unmounted    |
| `attach.sock`  | shim       | stream socket, see below                                                 |
| `control.sock` | shim       | JSON-lines requests/replies, see below                                   |
| `runtime.log`  | runtime    | the runtime's `--log` (json); the shim reads its errors from it          |
| `console.sock` | shim       | --tty: the `--console-socket`, only while create/exec runs               |
| `runtime.pid`  | runtime    | the runtime's `--pid-file`, only while create/exec runs                  |

A socket path longer than sun_path allows (107 bytes: an exec's state dir is) is bound and
reached as `/proc/PID/fd/N/NAME`, N an O_PATH descriptor of the state dir.

Readiness: the `jocker-shim` process the daemon starts forks the real shim and exits 0 once the
runtime's `create` (or `exec --detach`) succeeded and init.pid, attach.sock and control.sock
exist; on failure it prints the runtime's error message on stderr and exits 1 (nothing is left
mounted). The process is only *created*: the daemon asks for the start (control.sock `start`)
after it has connected any attach streams, so no output byte is lost (exec mode starts the
process at once).

attach.sock: a client sends one JSON line `{"stdin": bool, "stdout": bool, "stderr": bool}`.
The shim registers it and answers one line `{"ok": true}` (`{"ok": false, "error": ...}` for a
bad request), so a client that has read the answer misses no output from then on (the daemon
awaits ShimClient.attach() before asking for the start). The shim then sends the process's output
as stdcopy frames (jockerd/shim/stdcopy.py: 8-byte header, stream 1 stdout / 2 stderr, 3 zero
bytes, big-endian u32 length; with a tty everything is stream 1), and copies raw bytes it reads
from the client into the process's stdin (when `stdin` was asked and the shim has a stdin).
EOF from the client (or its disconnection) closes the process's stdin if --stdin-once.
When the process has exited and its output is drained (EOF on the pipes/pty, or 2 s after the
exit at most), the shim shuts the connection down (after up to 5 s more to send what it holds
for a slow client) and closes attach.sock: a later connect is refused (read it as EOF).
A client that does not read holds the process's output back (the shim stops reading the pipes
while any client has more than 1 MiB waiting): nothing is dropped, as with a slow terminal.

Exec mode: the process runs before the daemon can attach, so the shim reads none of its output
until the first attach request (the pipe fills, the process waits); a detached exec attaches
once with no streams to release it. Without any attach, it is released 5 s after readiness.

control.sock requests (one JSON object per line; reply `{"ok": true}` or
`{"ok": false, "error": "..."}`):
- `{"op": "resize", "height": H, "width": W}`: TIOCSWINSZ on the pty (without a tty: a no-op,
  as containerd's)
- `{"op": "close_stdin"}`: close the process's stdin once everything attach clients have sent
  before the request is written to it (with a tty: attach input stops, the pty stays)
- `{"op": "ping"}`
- `{"op": "start"}` (start mode): the shim runs `RUNTIME start ID` itself and answers when it
  returned (error: the runtime's message). The daemon starts containers this way so a process
  that exits at once cannot race the start: the shim's clean-up (`RUNTIME delete`) only runs
  after the start has returned.
Connections stay open until the client closes them or the shim exits, which it does right
after writing `exit`: a client holding one learns that the shim is done without polling.

Zygote: `jocker-shim zygote --socket PATH` (jockerd/shim/zygote.py) is the same program with
everything imported, started once by the daemon; per shim the daemon sends it the arguments
above as a JSON list, and a fork of it does what `jocker-shim ARGS` would, answering
`{"code", "stderr"}` instead of exiting. (Shims started this way show the zygote's command line
in `ps`; shim.pid is the way to find a container's shim.) Exec'ing jocker-shim is the fallback.

Published ports (--ports): the shim listens on each before the runtime's `create` (a taken
port fails the start with dockerd's message: `driver failed programming external connectivity
on endpoint NAME (ID): Bind for 0.0.0.0:8080 failed: port is already allocated`), relays every
TCP connection and UDP flow to 127.0.0.1:<container port> inside the container's network
namespace, and closes the listeners when the container's process exits (before `exit`).

Exit code: the process's status, or 128+signal when a signal killed it (Docker's rule); 255
if the shim failed before it learned it. `finished_at` is Go's RFC3339Nano in UTC, `error`
is empty unless the shim itself failed (e.g. `runtime delete: ...`, `unmount rootfs: ...`).
The runtime `delete` and the unmount are the shim's own work: they happen with no daemon.

Modules: `__main__` (argv, fork, readiness), `supervisor` (mounts, runtime calls, the loop,
reaping, clean-up), `stdio` (pipes, console socket, stdin buffer, epoll), `attach` (attach and
control connections), `logs` (json-file writer), `stdcopy` (framing, shared with the daemon), `ports` (the
userland proxy of published ports, imported only when there are some).
"""
