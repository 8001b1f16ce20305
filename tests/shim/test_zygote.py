"""The shim zygote: shims started by fork from a pre-imported process, exec as the fallback."""

from __future__ import annotations

import os
import signal

import pytest

from jockerd.driver.shim_client import ShimClient, ShimZygote
from jockerd.shim.__main__ import main as shim_main


async def test_zygote_answers_like_the_exec_d_starter(tmp_path):
    zygote = ShimZygote(ShimClient.shim_argv, tmp_path / "zygote.sock")
    try:
        assert await zygote.run(["--help"]) == (0, "")
        code, stderr = await zygote.run(["start", "--bogus"])
        assert code == 2 and "unknown flag: --bogus" in stderr
        assert shim_main(["start", "--bogus"]) == 2  # the same answer the exec'd starter gives
    finally:
        await zygote.close()
    assert not (tmp_path / "zygote.sock").exists()


async def test_a_dead_zygote_means_exec_then_a_new_zygote(tmp_path):
    zygote = ShimZygote(ShimClient.shim_argv, tmp_path / "zygote.sock")
    try:
        assert await zygote.run(["--help"]) == (0, "")
        assert zygote._proc is not None
        first = zygote._proc.pid
        os.kill(first, signal.SIGKILL)
        await zygote._proc.wait()
        # Either this call already restarts it, or it answers None and the caller execs.
        answer = await zygote.run(["--help"])
        assert answer in (None, (0, ""))
        assert await zygote.run(["--help"]) == (0, "")
        assert zygote._proc.pid != first
    finally:
        await zygote.close()


@pytest.mark.parametrize("argv", [["zygote"], ["zygote", "--socket"], ["zygote", "--sock", "x"]])
def test_zygote_usage(argv):
    assert shim_main(argv) == 2
