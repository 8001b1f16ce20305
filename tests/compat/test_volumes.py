"""Volumes through the real docker CLI against a real jockerd: `docker volume` create, ls,
inspect, rm, prune; named, anonymous and image volumes in containers; copy-up, nocopy, :ro;
rm -v and --rm; a tmpfs volume of the local driver; events; a daemon restart.

Expected outputs and wordings are the docker CLI's and dockerd's (traces 43-45,
docker-cli-flows.md; moby volume/service and volume/local).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import DOCKER

pytestmark = [pytest.mark.root]

HEX64 = re.compile(r"[0-9a-f]{64}")
INVALID_NAME = (
    'Error response from daemon: create x/y: "x/y" includes invalid characters for a local volume '
    'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
    "use absolute path\n"
)


@pytest.fixture(scope="module")
def d(shared_jockerd, busybox_archive):
    shared_jockerd.docker_ok("load", "-i", str(busybox_archive))
    return shared_jockerd


@pytest.fixture(autouse=True)
def clean(d):
    yield
    for cid in d.docker_ok("ps", "-aq").split():
        d.docker("rm", "-f", cid)
    names = d.docker_ok("volume", "ls", "-q").split()
    if names:
        d.docker("volume", "rm", "-f", *names)


def inspect(d, name):
    return json.loads(d.docker_ok("volume", "inspect", name))[0]


def test_create_inspect_ls_rm(d):
    assert d.docker_ok("volume", "create", "jtr-vol") == "jtr-vol\n"
    volume = inspect(d, "jtr-vol")
    assert list(volume) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]
    assert volume["Driver"] == "local" and volume["Scope"] == "local" and volume["Name"] == "jtr-vol"
    assert volume["Labels"] is None and volume["Options"] is None
    assert volume["Mountpoint"] == str(d.data_root / "volumes" / "jtr-vol" / "_data")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", volume["CreatedAt"])
    # Creating it again answers the same volume.
    assert d.docker_ok("volume", "create", "jtr-vol") == "jtr-vol\n"
    assert d.docker_ok("volume", "ls") == "DRIVER    VOLUME NAME\nlocal     jtr-vol\n"
    assert d.docker_ok("volume", "ls", "-q") == "jtr-vol\n"
    assert (
        d.docker_ok("volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}") == "jtr-vol local local\n"
    )
    assert d.docker_ok("volume", "rm", "jtr-vol") == "jtr-vol\n"
    assert d.docker_ok("volume", "ls") == "DRIVER    VOLUME NAME\n"
    assert not (d.data_root / "volumes" / "jtr-vol").exists()


def test_generated_name_labels_and_options(d):
    name = d.docker_ok("volume", "create", "--label", "a=b", "--label", "c").strip()
    assert HEX64.fullmatch(name)
    assert inspect(d, name)["Labels"] == {"a": "b", "c": ""}
    d.docker_ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", "tv")
    assert inspect(d, "tv")["Options"] == {"device": "tmpfs", "o": "size=1m", "type": "tmpfs"}
    assert d.docker_ok("volume", "ls", "-q", "-f", "label=a=b") == f"{name}\n"
    assert d.docker_ok("volume", "ls", "-q", "-f", "name=^t") == "tv\n"
    assert d.docker_ok("volume", "ls", "-q", "-f", "driver=local").split() == sorted([name, "tv"])


def test_errors(d):
    result = d.docker("volume", "create", "x/y")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", INVALID_NAME)
    result = d.docker("volume", "create", "a")
    assert result.stderr == (
        "Error response from daemon: create a: volume name is too short, names should be at least "
        "two alphanumeric characters\n"
    )
    result = d.docker("volume", "create", "-d", "nosuch", "v1")
    assert result.returncode == 1
    assert result.stderr == (
        "Error response from daemon: create v1: error looking up volume plugin nosuch: "
        'plugin "nosuch" not found\n'
    )
    result = d.docker("volume", "create", "-o", "bogus=1", "v1")
    assert result.stderr == 'Error response from daemon: create v1: invalid option: "bogus"\n'
    result = d.docker("volume", "create", "-o", "type=tmpfs", "v1")
    assert result.stderr == 'Error response from daemon: create v1: missing required option: "device"\n'
    result = d.docker("volume", "inspect", "nosuch")
    assert (result.returncode, result.stdout) == (1, "[]\n")
    assert result.stderr == "Error response from daemon: get nosuch: no such volume\n"
    result = d.docker("volume", "rm", "nosuch")
    assert result.returncode == 1
    assert result.stderr == "Error response from daemon: get nosuch: no such volume\n"
    assert d.docker("volume", "rm", "-f", "nosuch").returncode == 0
    result = d.docker("volume", "ls", "-f", "bogus=1")
    assert (result.returncode, result.stderr) == (1, "Error response from daemon: invalid filter 'bogus'\n")
    put = d.request(
        "PUT", "/v1.51/volumes/x?version=1", body=b"{}", headers={"Content-Type": "application/json"}
    )
    assert put.status == 503
    assert put.json() == {"message": "volume update only valid for cluster volumes, but swarm is not enabled"}
    result = d.docker("run", "--rm", "-v", "x/y:/data", "busybox", "true")
    assert result.returncode == 125
    assert result.stderr == "docker: " + INVALID_NAME + "\nRun 'docker run --help' for more information\n"


def test_named_volume_persists_and_is_in_use(d):
    d.docker_ok("run", "--rm", "-v", "data:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert d.docker_ok("volume", "ls", "-q") == "data\n"  # created on the fly
    assert d.docker_ok("run", "--rm", "-v", "data:/data:ro", "busybox", "cat", "/data/f") == "kept\n"
    result = d.docker("run", "--rm", "-v", "data:/data:ro", "busybox", "touch", "/data/g")
    assert result.returncode == 1 and "Read-only file system" in result.stderr
    cid = d.docker_ok(
        "create", "--name", "user", "--mount", "source=data,target=/mnt", "busybox", "true"
    ).strip()
    mounts = json.loads(d.docker_ok("inspect", "user"))[0]["Mounts"]
    assert mounts == [
        {
            "Type": "volume",
            "Name": "data",
            "Source": str(d.data_root / "volumes" / "data" / "_data"),
            "Destination": "/mnt",
            "Driver": "local",
            "Mode": "z",
            "RW": True,
            "Propagation": "",
        }
    ]
    result = d.docker("volume", "rm", "data")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error response from daemon: remove data: volume is in use - [{cid}]\n"
    assert d.docker("volume", "rm", "-f", "data").returncode == 1  # force does not override in use
    assert d.docker_ok("volume", "ls", "-q", "-f", "dangling=false") == "data\n"
    assert d.docker_ok("volume", "ls", "-q", "-f", "dangling=true") == ""
    assert d.docker_ok("ps", "-aq", "--filter", "volume=data") == cid[:12] + "\n"
    d.docker_ok("rm", "-v", "user")  # a named volume stays
    assert d.docker_ok("volume", "ls", "-q", "-f", "dangling=true") == "data\n"
    assert d.docker_ok("volume", "rm", "data") == "data\n"


def test_copy_up_nocopy_and_image_volumes(d):
    d.docker_ok(
        "run", "--name", "base", "busybox", "sh", "-c",
        "mkdir -p /data/sub && echo hi > /data/f && ln -s f /data/l && chown -R 1000:1000 /data"
        " && chmod 750 /data",
    )  # fmt: skip
    d.docker_ok("commit", "--change", "VOLUME /data", "base", "volimg")
    try:
        # A named volume is filled from the image the first time, owner and mode included.
        out = d.docker_ok("run", "--rm", "-v", "filled:/data", "volimg", "sh", "-c",
                          "stat -c '%u:%g %a' /data; cat /data/f; readlink /data/l")  # fmt: skip
        assert out == "1000:1000 750\nhi\nf\n"
        data = d.data_root / "volumes" / "filled" / "_data"
        assert (data / "f").read_text() == "hi\n" and (data / "sub").is_dir()
        # nocopy: empty.
        assert d.docker_ok("run", "--rm", "-v", "empty:/data:nocopy", "volimg", "ls", "-A", "/data") == ""
        out = d.docker_ok(
            "run",
            "--rm",
            "--mount",
            "type=volume,src=empty2,dst=/data,volume-nocopy",
            "volimg",
            "ls",
            "/data",
        )
        assert out == ""
        # Busybox's /etc copied up into a volume.
        assert "passwd" in d.docker_ok("run", "--rm", "-v", "etc:/etc", "busybox", "ls", "/etc").split()
        # The image's VOLUME: an anonymous volume with a generated name, labelled, filled.
        cid = d.docker_ok("create", "volimg", "cat", "/data/f").strip()
        mounts = json.loads(d.docker_ok("inspect", cid))[0]["Mounts"]
        assert len(mounts) == 1 and mounts[0]["Mode"] == "" and mounts[0]["Destination"] == "/data"
        anonymous = mounts[0]["Name"]
        assert HEX64.fullmatch(anonymous)
        assert inspect(d, anonymous)["Labels"] == {"com.docker.volume.anonymous": ""}
        assert d.docker_ok("start", "-a", cid) == "hi\n"
        # rm -v removes the anonymous volume, not the named ones.
        d.docker_ok("rm", "-v", cid)
        names = d.docker_ok("volume", "ls", "-q").split()
        assert anonymous not in names and {"filled", "empty", "empty2", "etc"} <= set(names)
        # --rm removes its anonymous volumes at exit.
        before = set(d.docker_ok("volume", "ls", "-q").split())
        d.docker_ok("run", "--rm", "-v", "/scratch", "volimg", "true")
        assert set(d.docker_ok("volume", "ls", "-q").split()) == before
        # docker rm without -v keeps them.
        cid = d.docker_ok("run", "-d", "volimg", "true").strip()
        d.docker_ok("wait", cid)
        d.docker_ok("rm", cid)
        left = set(d.docker_ok("volume", "ls", "-q").split()) - before
        assert len(left) == 1
        # prune: anonymous volumes only by default (API >= 1.42), all with --all.
        result = d.docker_ok("volume", "prune", "-f")
        assert result.startswith(f"Deleted Volumes:\n{left.pop()}\n\nTotal reclaimed space: ")
        assert set(d.docker_ok("volume", "ls", "-q").split()) == before
        assert (
            d.docker_ok("volume", "prune", "-f", "--filter", "label=nosuch") == "Total reclaimed space: 0B\n"
        )
        # A volume with mount options is never pruned (dockerd 20.10 and later, moby#42564).
        d.docker_ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "withopts")
        out = d.docker_ok("volume", "prune", "-af")
        assert out.startswith("Deleted Volumes:\n") and "withopts" not in out
        assert d.docker_ok("volume", "ls", "-q") == "withopts\n"
        d.docker_ok("volume", "rm", "withopts")
    finally:
        d.docker("rm", "-f", "base")
        d.docker("rmi", "volimg")


def test_volumes_from(d):
    d.docker_ok("run", "--name", "src", "-v", "shared:/shared", "-v", "/anon", "busybox", "sh", "-c",
                "echo s > /shared/f; echo a > /anon/f")  # fmt: skip
    out = d.docker_ok("run", "--rm", "--volumes-from", "src:ro", "busybox", "sh", "-c",
                      "cat /shared/f /anon/f; touch /shared/x || true")  # fmt: skip
    assert out == "s\na\n"
    mounts = json.loads(d.docker_ok("inspect", "src"))[0]["Mounts"]
    assert sorted(m["Destination"] for m in mounts) == ["/anon", "/shared"]


def test_tmpfs_volume_mounted_while_used(d):
    d.docker_ok(
        "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "--opt", "o=size=10m", "tv"
    )
    data = str(d.data_root / "volumes" / "tv" / "_data")

    def mounted() -> bool:
        with open("/proc/self/mounts") as f:
            return any(line.split()[1] == data for line in f)

    cid = d.docker_ok("run", "-d", "-v", "tv:/t", "busybox", "sh", "-c", "echo x > /t/f; sleep 100").strip()
    assert mounted()
    out = d.docker_ok("exec", cid, "sh", "-c", "df -k /t | tail -1; cat /t/f")
    assert out.split()[1] == "10240" and out.endswith("x\n")
    d.docker_ok("rm", "-f", cid)
    assert not mounted()
    assert d.docker_ok("run", "--rm", "-v", "tv:/t", "busybox", "ls", "/t") == ""  # tmpfs: gone


def test_events_and_df(d):
    since = str(int(time.time()) - 1)
    d.docker_ok("run", "--rm", "-v", "ev:/e", "busybox", "true")
    d.docker_ok("volume", "rm", "ev")
    until = str(int(time.time()) + 1)
    out = d.docker_ok("events", "--since", since, "--until", until, "--filter", "type=volume",
                      "--filter", "volume=ev",
                      "--format", "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}")  # fmt: skip
    assert out.split("\n")[:-1] == [
        "create ev local",
        "mount ev local",
        "unmount ev local",
        "destroy ev local",
    ]
    d.docker_ok("volume", "create", "dfv")
    d.docker_ok("run", "--rm", "-v", "dfv:/d", "busybox", "sh", "-c", "head -c 3000 /dev/zero > /d/z")
    df = d.docker_ok("system", "df", "-v", "--format", "{{json .Volumes}}")
    volumes = json.loads(df)
    assert [(v["Name"], v["Links"], v["Size"]) for v in volumes] == [("dfv", "0", "3kB")]


def test_volume_survives_daemon_restart(jockerd, busybox_archive):
    d = jockerd
    d.docker_ok("load", "-i", str(busybox_archive))
    d.docker_ok("run", "--name", "writer", "-v", "keep:/k", "busybox", "sh", "-c", "echo v > /k/f")
    d.docker_ok("volume", "create", "--label", "x=y", "lone")
    d.stop(signal.SIGKILL)
    d.start()
    assert d.docker_ok("volume", "ls", "-q") == "keep\nlone\n"
    assert inspect(d, "lone")["Labels"] == {"x": "y"}
    # The reference from the container was rebuilt from its record.
    result = d.docker("volume", "rm", "keep")
    assert "volume is in use" in result.stderr
    assert d.docker_ok("run", "--rm", "-v", "keep:/k", "busybox", "cat", "/k/f") == "v\n"
    d.docker_ok("rm", "writer")
    assert d.docker_ok("volume", "rm", "keep", "lone") == "keep\nlone\n"


def test_docker_py(d):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=f"unix://{d.sock}", version="1.51")
    try:
        volume = client.volumes.create("pyvol", labels={"k": "v"})
        assert volume.name == "pyvol" and volume.attrs["Labels"] == {"k": "v"}
        assert [v.name for v in client.volumes.list()] == ["pyvol"]
        script = "sh -c 'echo p > /v/f; cat /v/f'"
        out = client.containers.run("busybox", script, volumes={"pyvol": {"bind": "/v"}}, remove=True)
        assert out == b"p\n"
        volume.remove()
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get("pyvol")
    finally:
        client.close()


def test_cli_missing():
    assert DOCKER is None or subprocess.run([DOCKER, "volume", "--help"], capture_output=True).returncode == 0
