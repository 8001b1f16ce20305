"""Choosing the OCI runtime: --add-runtime / --default-runtime / daemon.json, `docker run --runtime`,
and `docker info`'s Runtimes, as dockerd does them."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import Jockerd, kill_leftovers, remove_all_containers

pytestmark = [pytest.mark.root]

RUNC = shutil.which("runc")


@pytest.mark.skipif(RUNC is None, reason="runc is not installed")
def test_add_and_default_runtime(tmp_path, busybox_archive):
    d = Jockerd(tmp_path, args=["--add-runtime", f"myrunc={RUNC}", "--default-runtime", "myrunc"])
    (tmp_path / "daemon.json").write_text(json.dumps({"runtimes": {"filerunc": {"path": RUNC}}}))
    d.start()
    try:
        runtimes = json.loads(d.docker_ok("info", "--format", "{{json .Runtimes}}"))
        assert {"jocker-runtime", "myrunc", "filerunc"} <= set(runtimes)
        assert runtimes["myrunc"]["path"] == RUNC
        assert d.docker_ok("info", "--format", "{{.DefaultRuntime}}") == "myrunc\n"
        d.docker_ok("load", "-i", str(busybox_archive))
        d.docker_ok("run", "-d", "--name", "dflt", "busybox", "sleep", "100")
        assert d.docker_ok("inspect", "-f", "{{.HostConfig.Runtime}}", "dflt") == "myrunc\n"
        # The container's state lives under the runtime's own root, as runc keeps it.
        assert list(d.exec_root.glob("runtime/myrunc/*/state.json"))
        for name in ("filerunc", "jocker-runtime"):
            out = d.docker_ok("run", "--rm", "--runtime", name, "busybox", "echo", name)
            assert out == f"{name}\n"
        d.docker_ok("rm", "-f", "dflt")
    finally:
        remove_all_containers(d)
        d.stop()
        kill_leftovers(tmp_path)


def test_unknown_default_runtime_refuses_to_start(tmp_path):
    d = Jockerd(tmp_path, args=["--default-runtime", "nosuch"])
    with pytest.raises(RuntimeError, match=r"jockerd: default runtime .nosuch. is not a configured runtime"):
        d.start(timeout=10)
