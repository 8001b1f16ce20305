"""The image commands through the real docker CLI against a real jockerd.

Expected outputs and error wordings come from ../shared/traces (docker CLI 28.2.2 against
Docker Engine): `Loaded image: busybox:latest`, `Untagged: jtr/bb:v1`, `No such image: ...`,
the 409 for an ID referenced in several repositories, and so on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from images.testimages import layered_image, legacy_docker_archive, oci_archive

pytestmark = [pytest.mark.root]


def image_id_of(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    return "sha256:" + Path(manifest[0]["Config"]).name.removesuffix(".json")


@pytest.fixture
def loaded(jockerd, busybox_archive):
    out = jockerd.docker_ok("load", "-i", str(busybox_archive))
    assert out == "Loaded image: busybox:latest\n"
    return jockerd


def test_version_and_info(jockerd):
    out = jockerd.docker_ok("version", "--format", "{{json .Server}}")
    server = json.loads(out)
    assert server["ApiVersion"] == "1.51"
    assert server["MinAPIVersion"] == "1.24"
    info = jockerd.docker("info")
    assert info.returncode == 0, info.stderr
    assert "Server Version:" in info.stdout
    assert "Storage Driver: overlay2" in info.stdout
    data = json.loads(jockerd.docker_ok("info", "--format", "{{json .}}"))
    assert data["NCPU"] >= 1 and data["MemTotal"] > 0
    assert data["DockerRootDir"] == str(jockerd.data_root)
    assert data["CgroupVersion"] in ("1", "2")
    assert data["KernelVersion"]


def test_load_lists_and_inspects_like_docker(loaded, busybox_archive):
    expected_id = image_id_of(busybox_archive)
    listing = loaded.docker_ok("images", "--no-trunc", "--format", "{{.Repository}} {{.Tag}} {{.ID}}")
    assert listing.splitlines() == [f"busybox latest {expected_id}"]
    image = json.loads(loaded.docker_ok("image", "inspect", "busybox"))[0]
    assert image["Id"] == expected_id
    assert image["RepoTags"] == ["busybox:latest"]
    assert image["Config"]["Cmd"] == ["sh"]
    assert image["Os"] == "linux"
    assert image["Architecture"] in ("amd64", "arm64")
    with tarfile.open(busybox_archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    assert image["RootFS"] == {"Type": "layers", "Layers": config["rootfs"]["diff_ids"]}
    assert image["Size"] > 500_000


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_oci_archive_loads(jockerd, busybox_archive, tmp_path, compression):
    dest = tmp_path / f"busybox-oci-{compression}.tar"
    oci_archive(busybox_archive, dest, compression=compression)
    out = jockerd.docker_ok("load", "-i", str(dest))
    assert out == "Loaded image: busybox:latest\n"
    image = json.loads(jockerd.docker_ok("image", "inspect", "busybox:latest"))[0]
    assert image["Id"] == image_id_of(busybox_archive)
    assert image["Config"]["Cmd"] == ["sh"]


def test_save_then_load_back(loaded, busybox_archive, tmp_path):
    saved = tmp_path / "saved.tar"
    loaded.docker_ok("save", "busybox", "-o", str(saved))
    with tarfile.open(saved) as tar:
        names = set(tar.getnames())
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert {"manifest.json", "index.json", "oci-layout"} <= names
    assert (
        index["manifests"][0]["annotations"]["io.containerd.image.name"] == "docker.io/library/busybox:latest"
    )
    loaded.docker_ok("rmi", "busybox")
    assert loaded.docker_ok("images", "-q") == ""
    assert loaded.docker_ok("load", "-i", str(saved)) == "Loaded image: busybox:latest\n"
    assert loaded.docker_ok("images", "-q", "--no-trunc").strip() == image_id_of(busybox_archive)


def test_save_stdout_and_by_id(loaded, busybox_archive, tmp_path):
    result = loaded.docker("save", image_id_of(busybox_archive)[7:19], "-o", str(tmp_path / "x.tar"))
    assert result.returncode == 0, result.stderr
    with tarfile.open(tmp_path / "x.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] is None


def test_save_missing_image(jockerd, tmp_path):
    result = jockerd.docker("save", "jtr/nosuch:v1", "-o", str(tmp_path / "x.tar"))
    assert result.returncode == 1
    assert "No such image: jtr/nosuch:v1" in result.stderr


def test_tag_and_rmi(loaded):
    assert loaded.docker_ok("tag", "busybox", "jtr/bb:v1") == ""
    assert loaded.docker_ok("tag", "busybox", "jtrbb") == ""
    tags = loaded.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    assert sorted(tags) == ["busybox:latest", "jtr/bb:v1", "jtrbb:latest"]
    assert loaded.docker_ok("rmi", "jtr/bb:v1") == "Untagged: jtr/bb:v1\n"
    missing = loaded.docker("rmi", "jtr/nosuch:v9")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "Error response from daemon: No such image: jtr/nosuch:v9"
    image_id = loaded.docker_ok("images", "-q").split()[0]
    conflict = loaded.docker("rmi", image_id)
    assert conflict.returncode == 1
    assert conflict.stderr.strip() == (
        f"Error response from daemon: conflict: unable to delete {image_id} (must be forced) - "
        "image is referenced in multiple repositories"
    )
    forced = loaded.docker_ok("rmi", "-f", image_id).splitlines()
    assert forced[:2] == ["Untagged: busybox:latest", "Untagged: jtrbb:latest"]
    assert forced[2].startswith("Deleted: sha256:" + image_id)
    assert loaded.docker_ok("images", "-q") == ""


def test_rmi_last_tag_deletes(loaded, busybox_archive):
    out = loaded.docker_ok("rmi", "busybox").splitlines()
    assert out[0] == "Untagged: busybox:latest"
    assert out[1] == f"Deleted: {image_id_of(busybox_archive)}"
    assert not list((loaded.data_root / "layers").glob("[0-9a-f]*")), "layers must be collected"


def test_tag_errors(loaded):
    missing = loaded.docker("tag", "jtr/nosuch", "x:1")
    assert missing.returncode == 1
    assert "No such image: jtr/nosuch:latest" in missing.stderr
    bad = loaded.request("POST", "/v1.51/images/busybox/tag?repo=Bad%20Name&tag=x")
    assert bad.status == 400
    assert "invalid reference format" in bad.json()["message"]
    bad_tag = loaded.request("POST", "/v1.51/images/busybox/tag?repo=ok&tag=-bad")
    assert bad_tag.status == 400


def test_history(loaded):
    out = loaded.docker_ok("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "busybox")
    rows = out.splitlines()
    assert len(rows) == 2
    assert rows[0].startswith("sha256:") and 'CMD ["sh"]' in rows[0] and rows[0].endswith("|0B")
    assert rows[1].startswith("<missing>|BUSYBOX_VERSION=")
    missing = loaded.docker("history", "nosuch")
    assert missing.returncode == 1
    assert "No such image: nosuch:latest" in missing.stderr


def test_import_with_changes(jockerd, busybox_archive, tmp_path):
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(busybox_archive) as src, tarfile.open(rootfs, "w") as dst:
        manifest = json.load(src.extractfile("manifest.json"))  # type: ignore[arg-type]
        layer = src.extractfile(manifest[0]["Layers"][0])
        assert layer is not None
        with tarfile.open(fileobj=layer) as inner:
            for member in inner.getmembers():
                dst.addfile(member, inner.extractfile(member) if member.isfile() else None)
    out = jockerd.docker_ok(
        "import",
        "-c",
        'CMD ["sh"]',
        "-c",
        "ENV A=1",
        "-c",
        "WORKDIR /tmp",
        "-m",
        "jtr import",
        str(rootfs),
        "jtr/imported:v1",
    )
    assert out.startswith("sha256:") and len(out.strip()) == 71
    image = json.loads(jockerd.docker_ok("image", "inspect", "jtr/imported:v1"))[0]
    assert image["Id"] == out.strip()
    assert image["Config"]["Cmd"] == ["sh"]
    assert "A=1" in image["Config"]["Env"]
    assert image["Config"]["WorkingDir"] == "/tmp"
    assert image["Comment"] == "jtr import"
    history = jockerd.docker_ok("history", "--format", "{{.Comment}}", "jtr/imported:v1")
    assert history.strip() == "jtr import"
    stdin = jockerd.docker("import", "-", "jtr/imported:v2", input=rootfs.read_bytes())
    assert stdin.returncode == 0, stdin.stderr
    bad = jockerd.docker("import", "-c", "FOO bar", str(rootfs), "jtr/imported:v3")
    assert bad.returncode == 1
    assert "foo is not a valid change command" in bad.stderr


def test_prune_dangling_then_all(loaded, tmp_path):
    other = layered_image(
        tmp_path / "other.tar", [[("file", "hello", "world")]], tag="busybox:latest", busybox=True
    )
    old_id = loaded.docker_ok("images", "-q", "--no-trunc").strip()
    out = loaded.docker_ok("load", "-i", str(other.path))
    assert out == (
        f"The image busybox:latest already exists, renaming the old one with ID {old_id} to empty string\n"
        "Loaded image: busybox:latest\n"
    )
    rows = loaded.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    assert sorted(rows) == ["<none>:<none>", "busybox:latest"]
    dangling = loaded.docker_ok("images", "-f", "dangling=true", "-q")
    assert len(dangling.split()) == 1
    out = loaded.docker_ok("image", "prune", "-f")
    assert "Deleted Images:" in out and "Total reclaimed space:" in out
    assert loaded.docker_ok("images", "-f", "dangling=true", "-q") == ""
    out = loaded.docker_ok("image", "prune", "-a", "-f")
    assert "untagged: busybox:latest" in out
    assert loaded.docker_ok("images", "-q") == ""


def test_image_list_filters(loaded, tmp_path):
    labelled = layered_image(
        tmp_path / "l.tar",
        [[("file", "x", "y")]],
        tag="jtr/labelled:v1",
        config={"Labels": {"jtr": "1"}, "Cmd": ["sh"]},
        busybox=True,
    )
    loaded.docker_ok("load", "-i", str(labelled.path))
    fmt = ("--format", "{{.Repository}}:{{.Tag}}")
    assert loaded.docker_ok("images", "-f", "label=jtr=1", *fmt).split() == ["jtr/labelled:v1"]
    assert loaded.docker_ok("images", "-f", "reference=busy*", *fmt).split() == ["busybox:latest"]
    assert loaded.docker_ok("images", "jtr/*", *fmt).split() == ["jtr/labelled:v1"]
    bad = loaded.docker("images", "-f", "bogus=1")
    assert bad.returncode == 1
    assert "Invalid filter 'bogus'" in bad.stderr


def test_system_df(loaded):
    out = loaded.docker_ok("system", "df", "--format", "{{.Type}} {{.TotalCount}}")
    assert "Images 1" in out


def test_load_garbage_is_an_error_and_daemon_lives(jockerd):
    result = jockerd.docker("load", input=b"this is not a tar archive" * 100)
    assert result.returncode == 1
    assert "invalid image archive" in result.stderr
    assert jockerd.docker_ok("images", "-q") == ""


def test_legacy_docker_save_layout_loads(jockerd, busybox_archive, tmp_path):
    """What Docker Engine < 25 writes: <id>.json, <layer>/layer.tar, repositories, no OCI files."""
    legacy = tmp_path / "legacy.tar"
    legacy_docker_archive(busybox_archive, legacy)
    with tarfile.open(legacy) as tar:
        assert "index.json" not in tar.getnames()
    assert jockerd.docker_ok("load", "-i", str(legacy)) == "Loaded image: busybox:latest\n"
    image = json.loads(jockerd.docker_ok("image", "inspect", "busybox"))[0]
    assert image["Id"] == image_id_of(busybox_archive)


def test_load_streams_progress_when_not_quiet(jockerd, busybox_archive):
    response = jockerd.request(
        "POST",
        "/v1.51/images/load?quiet=0",
        body=busybox_archive.read_bytes(),
        headers={"Content-Type": "application/x-tar"},
    )
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    lines = response.lines()
    progress = [line for line in lines if line.get("status") == "Loading layer"]
    assert progress, lines
    last = progress[-1]
    assert last["progressDetail"]["current"] == last["progressDetail"]["total"]
    assert last["progress"].startswith("[" + "=" * 50 + ">]")
    assert lines[-1] == {"stream": "Loaded image: busybox:latest\n"}
    quiet = jockerd.request("POST", "/v1.51/images/load?quiet=1", body=busybox_archive.read_bytes())
    assert quiet.lines() == [{"stream": "Loaded image: busybox:latest\n"}]


@pytest.mark.skipif(not shutil.which("skopeo"), reason="skopeo is not installed")
def test_saved_archive_is_valid_for_other_tools(loaded, busybox_archive, tmp_path):
    """skopeo reads jocker's save both as a docker-archive and as an OCI layout."""
    saved = tmp_path / "saved.tar"
    loaded.docker_ok("save", "busybox", "-o", str(saved))
    as_docker = subprocess.run(
        ["skopeo", "inspect", "--config", f"docker-archive:{saved}"], capture_output=True, text=True
    )
    assert as_docker.returncode == 0, as_docker.stderr
    assert json.loads(as_docker.stdout)["config"]["Cmd"] == ["sh"]
    layout = tmp_path / "layout"
    layout.mkdir()
    subprocess.run(["tar", "-xf", str(saved), "-C", str(layout)], check=True)
    as_oci = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{layout}:latest"], capture_output=True, text=True
    )
    assert as_oci.returncode == 0, as_oci.stderr
    manifest = json.loads(as_oci.stdout)
    assert "sha256:" + hashlib.sha256(
        (layout / "blobs/sha256" / manifest["config"]["digest"][7:]).read_bytes()
    ).hexdigest() == image_id_of(busybox_archive)


def test_image_events(jockerd, busybox_archive):
    """dockerd's image events (traces 46*): load, tag, untag, delete, with the image ID as actor."""
    since = str(time.time() - 1)
    jockerd.docker_ok("load", "-i", str(busybox_archive))
    jockerd.docker_ok("tag", "busybox", "jtr/evt:v1")
    jockerd.docker_ok("rmi", "jtr/evt:v1")
    image_id = jockerd.docker_ok("image", "inspect", "-f", "{{.Id}}", "busybox").strip()
    until = str(time.time() + 1)
    out = jockerd.docker_ok(
        "events", "--since", since, "--until", until, "--filter", "type=image",
        "--format", "{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes `name`}}",
    )  # fmt: skip
    assert out.splitlines() == [
        f"load {image_id} {image_id}",
        f"tag {image_id} busybox:latest",
        f"tag {image_id} jtr/evt:v1",
        f"untag {image_id} {image_id}",
    ]
