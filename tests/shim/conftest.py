"""Fixtures for jocker-shim tests: busybox bundles on an overlay rootfs, runtimes, shim launchers.

- `lowerdir` (session): the host's static busybox and its applet links, the image layer that
  every container's overlay mount (mounts.json) uses read-only.
- `runtime` is parametrized over jocker-runtime and runc (skipped when absent): the same test
  runs against both.
- `containers` makes containers: `containers.options(args, ...)` → ShimOptions for a new
  bundle (spec: `jocker-runtime spec`'s default, own network namespace, nothing configured),
  with its overlay mounts, state dir, runtime root and json log; teardown kills what is left.

The shim and jocker-runtime run through launchers like the ones setup.sh writes
(`python -IS`, repo on sys.path), made here so the tests need no setup.sh.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jockerd.driver.oci_runtime import OciRuntime
from jockerd.driver.shim_client import ShimOptions

REPO = Path(__file__).resolve().parents[2]
BUSYBOX = Path("/bin/busybox")
RUNC = shutil.which("runc")


def launcher(directory: Path, name: str, module: str) -> Path:
    path = directory / name
    path.write_text(
        f"#!{sys.executable} -IS\n"
        "import gc; gc.disable()\n"
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        f"from {module} import main; sys.exit(main())\n"
    )
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bin")
    launcher(directory, "jocker-runtime", "jockerd.runtime.__main__")
    launcher(directory, "jocker-shim", "jockerd.shim.__main__")
    return directory


@pytest.fixture(scope="session")
def shim_argv(bin_dir: Path) -> list[str]:
    return [str(bin_dir / "jocker-shim")]


@pytest.fixture(scope="session")
def lowerdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed")
    root = tmp_path_factory.mktemp("layer") / "diff"
    for d in ("bin", "dev", "proc", "sys", "etc", "tmp", "root"):
        (root / d).mkdir(parents=True)
    (root / "tmp").chmod(0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout
    for applet in applets.split():
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root


@dataclass
class Runtime:
    name: str
    argv: list[str]


@pytest.fixture(params=["jocker", "runc"])
def runtime(request: pytest.FixtureRequest, bin_dir: Path) -> Runtime:
    if request.param == "runc":
        if RUNC is None:
            pytest.skip("runc is not installed")
        return Runtime("runc", [RUNC])
    return Runtime("jocker", [str(bin_dir / "jocker-runtime")])


@pytest.fixture
def jocker(bin_dir: Path) -> Runtime:
    return Runtime("jocker", [str(bin_dir / "jocker-runtime")])


def default_spec(args: list[str], tty: bool) -> dict:
    from jockerd.runtime.spec import default

    spec = default()
    spec["process"]["args"] = args
    spec["process"]["terminal"] = tty
    spec["root"] = {"path": "rootfs", "readonly": False}
    return spec


@dataclass
class Containers:
    """Makes containers for one test and cleans up after it."""

    tmp_path: Path
    lowerdir: Path
    runtime: Runtime
    made: list[ShimOptions] = field(default_factory=list)

    @property
    def runtime_root(self) -> Path:
        return self.tmp_path / "runtime-root"

    def oci(self) -> OciRuntime:
        return OciRuntime(self.runtime.argv, self.runtime_root)

    def options(
        self, args: list[str], *, tty: bool = False, edit: Callable[[dict], None] | None = None, **kw
    ) -> ShimOptions:
        cid = f"shim-{uuid.uuid4().hex[:12]}"
        top = self.tmp_path / cid
        bundle = top / "bundle"
        (bundle / "rootfs").mkdir(parents=True)
        (top / "upper").mkdir()
        (top / "work").mkdir()
        spec = default_spec(args, tty)
        if edit is not None:
            edit(spec)
        (bundle / "config.json").write_text(json.dumps(spec))
        overlay = {
            "type": "overlay",
            "source": "overlay",
            "options": [f"lowerdir={self.lowerdir}", f"upperdir={top / 'upper'}", f"workdir={top / 'work'}"],
        }
        kw.setdefault("log_path", top / "container-json.log")
        options = ShimOptions(
            container_id=cid,
            bundle=bundle,
            state_dir=top / "shim",
            runtime_argv=self.runtime.argv,
            runtime_root=self.runtime_root,
            mounts=[overlay],
            tty=tty,
            **kw,
        )
        self.made.append(options)
        return options

    def cleanup(self) -> None:
        for options in self.made:
            for pid_file in Path(options.state_dir).rglob("shim.pid"):
                with contextlib.suppress(ValueError, OSError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
            delete = ["--root", str(self.runtime_root), "delete", "--force", options.container_id]
            subprocess.run([*self.runtime.argv, *delete], capture_output=True)
            rootfs = str(Path(options.bundle) / "rootfs")
            while rootfs in mount_points():
                subprocess.run(["umount", "-l", rootfs], capture_output=True)


@pytest.fixture
def containers(tmp_path: Path, lowerdir: Path, runtime: Runtime) -> Iterator[Containers]:
    made = Containers(tmp_path, lowerdir, runtime)
    yield made
    made.cleanup()


@pytest.fixture
def jocker_containers(tmp_path: Path, lowerdir: Path, jocker: Runtime) -> Iterator[Containers]:
    made = Containers(tmp_path, lowerdir, jocker)
    yield made
    made.cleanup()


def mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def cgroup_dirs(container_id: str) -> list[Path]:
    """Where the runtimes put the cgroup of a container without cgroupsPath (relative `<id>`)."""
    dirs = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers == "":
                base = Path("/sys/fs/cgroup") / Path(path).parent.relative_to("/")
                dirs.append(base / container_id)
            elif controllers and not controllers.startswith("name="):
                mount = Path("/sys/fs/cgroup") / controllers
                if mount.is_dir():
                    dirs.append(mount / path.lstrip("/") / container_id)
    return dirs
