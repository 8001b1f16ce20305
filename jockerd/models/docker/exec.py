"""Exec endpoints' bodies (swagger ContainerExec's execConfig, ExecStart's execStartConfig, ExecInspect).

The request bodies are in the order the CLI sends them (moby's ExecOptions); the CLI also sends
`Detach` in the exec create body, which API 1.51 no longer documents: it is kept as an extra.
ExecInspectResponse is in the order dockerd sends it (trace 10), not the swagger's.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from jockerd.models.base import DockerModel
from jockerd.models.docker.host_config import InboundModel, omit_empty, omit_none


class ExecConfig(InboundModel):
    """Body of POST /containers/{id}/exec."""

    user: str = ""
    privileged: bool = False
    tty: bool = False
    console_size: list[int] | None = omit_none()  # [height, width]; the CLI sends it with -t
    attach_stdin: bool = False
    attach_stderr: bool = False
    attach_stdout: bool = False
    detach_keys: str = ""
    env: list[str] | None = None
    working_dir: str = ""
    cmd: list[str] | None = None


class ExecStartConfig(InboundModel):
    """Body of POST /exec/{id}/start."""

    detach: bool = False
    tty: bool = False
    console_size: list[int] | None = omit_none()


class ProcessConfig(DockerModel):
    """The exec'd process as ExecInspect shows it (lowercase keys on the wire)."""

    model_config = ConfigDict(alias_generator=None)

    tty: bool = False
    entrypoint: str = ""
    arguments: list[str] = Field(default_factory=list)
    privileged: bool = False
    user: str = omit_empty("")


class ExecInspectResponse(DockerModel):
    """Reply to GET /exec/{id}/json; `ExitCode` is null while the process runs."""

    id: str = Field(alias="ID")
    running: bool = False
    exit_code: int | None = None
    process_config: ProcessConfig = Field(default_factory=ProcessConfig)
    open_stdin: bool = False
    open_stderr: bool = False
    open_stdout: bool = False
    can_remove: bool = False
    container_id: str = Field(alias="ContainerID")
    detach_keys: str = ""
    pid: int = 0
