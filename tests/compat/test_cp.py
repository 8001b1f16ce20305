"""`docker cp` and `docker export` through the real docker CLI (28.2.2) against a real jockerd,
plus the archive endpoints over raw HTTP: the stat header, hostile tars, read-only rootfs.

Wordings are moby's (daemon/archive*.go, errors.go: containerFileNotFound; go-archive).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import DOCKER

pytestmark = [pytest.mark.root]


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


def docker_bytes(d, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The docker CLI with binary stdout (a tar)."""
    return subprocess.run([DOCKER, *args], env=d.env, capture_output=True, timeout=120)


def busybox_passwd(d) -> str:
    return d.docker_ok("run", "--rm", "busybox", "cat", "/etc/passwd")


def running(d, name: str, *options: str) -> str:
    return d.docker_ok("run", "-d", "--name", name, *options, "busybox", "sleep", "600").strip()


def tar_names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def put_archive(d, container: str, path: str, data: bytes, query: str = ""):
    return d.request(
        "PUT",
        f"/v1.51/containers/{container}/archive?path={path}{query}",
        body=data,
        headers={"Content-Type": "application/x-tar"},
    )


def make_tar(*entries: tuple[str, str, bytes | str]) -> bytes:
    """(name, kind, payload) with kind file/dir/symlink/hardlink/chardev."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = int(time.time())
            if kind == "file":
                data = payload if isinstance(payload, bytes) else payload.encode()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
                continue
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, str(payload)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, str(payload)
            elif kind == "chardev":
                info.type, info.devmajor, info.devminor, info.mode = tarfile.CHRTYPE, 1, 3, 0o666
            tar.addfile(info)
    return out.getvalue()


# -- out of the container -------------------------------------------------------------------


def test_cp_file_out_of_created_container(d, tmp_path):
    d.docker_ok("create", "--name", "cpo1", "busybox")
    try:
        result = d.docker("cp", "cpo1:/etc/passwd", str(tmp_path / "passwd"))
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert (tmp_path / "passwd").read_text() == busybox_passwd(d)
        # Into an existing directory: the file keeps its name.
        d.docker_ok("cp", "cpo1:/etc/passwd", str(tmp_path))
        assert (tmp_path / "passwd").read_text() == busybox_passwd(d)
    finally:
        d.docker_ok("rm", "-f", "cpo1")


def test_cp_directory_out_with_and_without_dot(d, tmp_path):
    running(d, "cpo2")
    try:
        d.docker_ok(
            "exec", "cpo2", "sh", "-c", "mkdir -p /srv/a/b && echo one > /srv/a/b/f && echo two > /srv/a/g"
        )
        d.docker_ok("cp", "cpo2:/srv/a", str(tmp_path / "copy"))  # new name: the directory itself
        assert (tmp_path / "copy/b/f").read_text() == "one\n"
        assert (tmp_path / "copy/g").read_text() == "two\n"
        (tmp_path / "existing").mkdir()
        d.docker_ok("cp", "cpo2:/srv/a", str(tmp_path / "existing"))  # into it, as a/
        assert (tmp_path / "existing/a/b/f").read_text() == "one\n"
        (tmp_path / "contents").mkdir()
        d.docker_ok("cp", "cpo2:/srv/a/.", str(tmp_path / "contents"))  # the contents only
        assert sorted(os.listdir(tmp_path / "contents")) == ["b", "g"]
    finally:
        d.docker_ok("rm", "-f", "cpo2")


def test_cp_to_stdout_is_a_tar(d):
    running(d, "cpo3")
    try:
        d.docker_ok("exec", "cpo3", "sh", "-c", "mkdir -p /srv/t && echo x > /srv/t/x")
        result = docker_bytes(d, "cp", "cpo3:/srv/t", "-")
        assert result.returncode == 0, result.stderr
        names = tar_names(result.stdout)
        assert names == ["t", "t/x"]
        # dockerd's GET names a `/.` request's entries "./…" and a `/` one's "/…".
        dot = d.request("GET", "/v1.51/containers/cpo3/archive?path=/srv/t/.")
        assert dot.status == 200 and tar_names(dot.body) == [".", "./x"]
    finally:
        d.docker_ok("rm", "-f", "cpo3")


def test_symlinks_resolve_inside_the_container(d, tmp_path):
    running(d, "cpo4")
    try:
        setup = "echo container-only > /etc/passwd.mine && ln -s /etc/passwd.mine /tmp/lnk"
        d.docker_ok("exec", "cpo4", "sh", "-c", setup + " && ln -s ../../../../../../etc/hostname /tmp/up")
        # Without -L the link itself is copied.
        d.docker_ok("cp", "cpo4:/tmp/lnk", str(tmp_path / "lnk"))
        assert os.readlink(tmp_path / "lnk") == "/etc/passwd.mine"
        # With -L, its target: the container's file, never the host's.
        d.docker_ok("cp", "-L", "cpo4:/tmp/lnk", str(tmp_path / "followed"))
        assert (tmp_path / "followed").read_text() == "container-only\n"
        d.docker_ok("cp", "-L", "cpo4:/tmp/up", str(tmp_path / "hostname"))
        container_hostname = d.docker_ok("exec", "cpo4", "cat", "/etc/hostname")
        assert (tmp_path / "hostname").read_text() == container_hostname
        # `..` stops at the container's root.
        d.docker_ok("cp", "cpo4:/../../../../etc/passwd.mine", str(tmp_path / "dots"))
        assert (tmp_path / "dots").read_text() == "container-only\n"
        stat = d.request("HEAD", "/v1.51/containers/cpo4/archive?path=/tmp/up")
        info = json.loads(base64.b64decode(stat.headers["x-docker-container-path-stat"]))
        assert info["linkTarget"] == "/etc/hostname" and info["mode"] & (1 << 27)
    finally:
        d.docker_ok("rm", "-f", "cpo4")


# -- into the container --------------------------------------------------------------------------


def test_cp_into_running_and_stopped_container(d, tmp_path):
    (tmp_path / "note.txt").write_text("hello from the host\n")
    (tmp_path / "tree/sub").mkdir(parents=True)
    (tmp_path / "tree/sub/leaf").write_text("leaf\n")
    running(d, "cpi1")
    try:
        result = d.docker("cp", str(tmp_path / "note.txt"), "cpi1:/tmp/")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert d.docker_ok("exec", "cpi1", "cat", "/tmp/note.txt") == "hello from the host\n"
        d.docker_ok("cp", str(tmp_path / "tree"), "cpi1:/tmp/newtree")
        assert d.docker_ok("exec", "cpi1", "cat", "/tmp/newtree/sub/leaf") == "leaf\n"
        d.docker_ok("stop", "-t", "0", "cpi1")
        d.docker_ok("cp", str(tmp_path / "note.txt"), "cpi1:/root/renamed.txt")
        d.docker_ok("start", "cpi1")
        assert d.docker_ok("exec", "cpi1", "cat", "/root/renamed.txt") == "hello from the host\n"
        assert d.docker_ok("exec", "cpi1", "cat", "/tmp/note.txt") == "hello from the host\n"
    finally:
        d.docker_ok("rm", "-f", "cpi1")


def test_cp_from_stdin_tar(d):
    d.docker_ok("create", "--name", "cpi2", "busybox")
    try:
        data = make_tar(("piped/one", "file", "1\n"))
        result = d.docker("cp", "-", "cpi2:/tmp", input=data)
        assert result.returncode == 0, result.stderr
        out = d.request("GET", "/v1.51/containers/cpi2/archive?path=/tmp/piped/one")
        with tarfile.open(fileobj=io.BytesIO(out.body)) as tar:
            assert tar.extractfile("one").read() == b"1\n"
    finally:
        d.docker_ok("rm", "-f", "cpi2")


def test_bind_mounted_path_reads_and_writes_the_host_source(d, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "from-host").write_text("host data\n")
    (tmp_path / "up").write_text("uploaded\n")
    running(d, "cpb1", "-v", f"{shared}:/data")
    try:
        d.docker_ok("cp", "cpb1:/data/from-host", str(tmp_path / "got"))
        assert (tmp_path / "got").read_text() == "host data\n"
        d.docker_ok("cp", str(tmp_path / "up"), "cpb1:/data/")
        assert (shared / "up").read_text() == "uploaded\n"
        d.docker_ok("stop", "-t", "0", "cpb1")
        # Stopped: still through the bind's source, as dockerd mounts it for the copy.
        d.docker_ok("cp", "cpb1:/data/up", str(tmp_path / "again"))
        assert (tmp_path / "again").read_text() == "uploaded\n"
        (tmp_path / "second").write_text("2\n")
        d.docker_ok("cp", str(tmp_path / "second"), "cpb1:/data/second")
        assert (shared / "second").read_text() == "2\n"
    finally:
        d.docker_ok("rm", "-f", "cpb1")


# -- errors ------------------------------------------------------------------------------------


def test_not_found_in_dockerd_words(d, tmp_path):
    d.docker_ok("create", "--name", "cpe1", "busybox")
    try:
        result = d.docker("cp", "cpe1:/no/such/file", str(tmp_path / "x"))
        assert result.returncode == 1
        assert (
            result.stderr
            == "Error response from daemon: Could not find the file /no/such/file in container cpe1\n"
        )
        head = d.request("HEAD", "/v1.51/containers/cpe1/archive?path=/nope")
        assert head.status == 404
        empty = d.request("GET", "/v1.51/containers/cpe1/archive?path=")
        assert (empty.status, empty.json()) == (400, {"message": "bad parameter: pathcannot be empty"})
        missing = d.request("GET", "/v1.51/containers/nosuchcontainer/archive?path=/etc")
        assert (missing.status, missing.json()) == (404, {"message": "No such container: nosuchcontainer"})
        (tmp_path / "f").write_text("f")
        into_file = put_archive(d, "cpe1", "/etc/passwd", make_tar(("f", "file", "f")))
        assert (into_file.status, into_file.json()) == (
            400,
            {"message": "extraction point is not a directory"},
        )
    finally:
        d.docker_ok("rm", "-f", "cpe1")


def test_read_only_rootfs(d, tmp_path):
    (tmp_path / "f").write_text("f\n")
    shared = tmp_path / "rw"
    shared.mkdir()
    running(d, "cpro", "--read-only", "-v", f"{shared}:/rw")
    try:
        result = d.docker("cp", str(tmp_path / "f"), "cpro:/tmp/")
        assert result.returncode == 1
        assert result.stderr == "Error response from daemon: container rootfs is marked read-only\n"
        d.docker_ok("cp", str(tmp_path / "f"), "cpro:/rw/")  # a writable bind is fine
        assert (shared / "f").read_text() == "f\n"
        # Reading is always allowed.
        d.docker_ok("cp", "cpro:/etc/passwd", str(tmp_path / "p"))
    finally:
        d.docker_ok("rm", "-f", "cpro")


def test_hostile_archives_write_nothing_outside_the_root(d, tmp_path):
    marker = f"/tmp/jocker-cp-escape-{uuid.uuid4().hex}"
    d.docker_ok("create", "--name", "cph", "busybox")
    try:
        # `..` in a name: refused.
        refused = put_archive(d, "cph", "/tmp", make_tar(("../../../../.." + marker, "file", "x")))
        assert refused.status == 400, refused.body
        assert not os.path.exists(marker)
        # Absolute names, symlinks to outside followed by writes through them, hardlinks to
        # host paths, a device node: all land inside the container.
        hostile = make_tar(
            (marker + "-abs", "file", "abs"),
            ("out", "symlink", os.path.dirname(marker)),
            ("out/" + os.path.basename(marker) + "-via-link", "file", "through"),
            ("up", "symlink", "../../../../../../../../tmp"),
            ("up/" + os.path.basename(marker) + "-via-up", "file", "through"),
            ("pw", "hardlink", "/etc/passwd"),
            ("null", "chardev", b""),
        )
        response = put_archive(d, "cph", "/", hostile)
        assert response.status == 200, response.body
        for suffix in ("-abs", "-via-link", "-via-up"):
            assert not os.path.exists(marker + suffix), suffix
        assert Path("/etc/passwd").read_text() != "x"
        # Each write is in the container instead.
        export = d.request("GET", "/v1.51/containers/cph/export")
        names = set(tar_names(export.body))
        assert marker.lstrip("/") + "-abs" in names
        assert marker.lstrip("/") + "-via-link" in names
        assert marker.lstrip("/") + "-via-up" in names
        assert {"pw", "null", "out", "up"} <= names
    finally:
        d.docker_ok("rm", "-f", "cph")


def test_no_overwrite_dir_non_dir(d):
    d.docker_ok("create", "--name", "cpn", "busybox")
    try:
        response = put_archive(d, "cpn", "/", make_tar(("etc", "file", "x")), "&noOverwriteDirNonDir=1")
        assert response.status == 400
        assert response.json()["message"] == 'cannot overwrite directory "/etc" with non-directory "/"'
    finally:
        d.docker_ok("rm", "-f", "cpn")


# -- export ----------------------------------------------------------------------------------


def test_export_merged_view(d, tmp_path):
    d.docker_ok("run", "--name", "cpx", "busybox", "sh", "-c", "echo hi > /newfile && rm /etc/group")
    try:
        result = docker_bytes(d, "export", "cpx")
        assert result.returncode == 0, result.stderr
        names = tar_names(result.stdout)
        assert "newfile" in names and "bin/busybox" in names and "etc/passwd" in names
        assert "etc/group" not in names  # the whiteout applied
        assert not any(n.startswith(("./", "/")) for n in names)
        out = tmp_path / "x.tar"
        d.docker_ok("export", "-o", str(out), "cpx")
        with tarfile.open(out) as tar:
            assert tar.extractfile("newfile").read() == b"hi\n"
    finally:
        d.docker_ok("rm", "-f", "cpx")


def test_events(d, tmp_path):
    since = str(int(time.time()) - 1)
    d.docker_ok("create", "--name", "cpev", "busybox")
    try:
        (tmp_path / "f").write_text("f")
        d.docker_ok("cp", str(tmp_path / "f"), "cpev:/tmp/")
        d.docker_ok("cp", "cpev:/tmp/f", str(tmp_path / "g"))
        d.docker_ok("export", "-o", str(tmp_path / "e.tar"), "cpev")
        until = str(int(time.time()) + 1)
        events = d.docker_ok(
            "events",
            "--since",
            since,
            "--until",
            until,
            "--filter",
            "container=cpev",
            "--format",
            "{{.Action}}",
        ).split()
        assert events == ["create", "extract-to-dir", "archive-path", "export"]
    finally:
        d.docker_ok("rm", "-f", "cpev")
