"""conversion.py: dockerd's create-time merge, then image-spec conversion.md."""

from __future__ import annotations

from typing import Any

import pytest

from jockerd.bundle.conversion import image_annotations, merge_config, merge_env, spec_from_image
from jockerd.errors import InvalidParameterError


def _merged(image: dict[str, Any], **container: Any) -> dict[str, Any]:
    return merge_config(image, container)["config"]


def test_cmd_and_entrypoint(image_config: dict[str, Any]) -> None:
    image_config["config"]["Entrypoint"] = ["/entry"]
    image_config["config"]["Cmd"] = ["default"]
    assert spec_from_image(image_config)["process"]["args"] == ["/entry", "default"]
    # Cmd replaces the image's Cmd, keeps its Entrypoint.
    assert _merged(image_config, Cmd=["x"])["Entrypoint"] == ["/entry"]
    assert _merged(image_config, Cmd=["x"])["Cmd"] == ["x"]
    # An Entrypoint drops the image's Cmd too.
    merged = _merged(image_config, Entrypoint=["/other"])
    assert (merged["Entrypoint"], merged["Cmd"]) == (["/other"], [])
    # --entrypoint "" clears the entrypoint; the container's Cmd is all there is.
    merged = _merged(image_config, Entrypoint=[""], Cmd=["echo", "hi"])
    assert (merged["Entrypoint"], merged["Cmd"]) == ([], ["echo", "hi"])
    # Entrypoint: [] (not null) also means none, but keeps the image's Cmd when Cmd is unset.
    merged = _merged(image_config, Entrypoint=[])
    assert (merged["Entrypoint"], merged["Cmd"]) == ([], ["default"])


def test_no_command_is_dockers_error(image_config: dict[str, Any]) -> None:
    image_config["config"].pop("Cmd")
    with pytest.raises(InvalidParameterError, match=r"^no command specified$"):
        spec_from_image(merge_config(image_config, {}))


def test_env_merge_keeps_the_containers_first() -> None:
    assert merge_env(["A=1", "B=2"], ["B=9", "C=3"]) == ["A=1", "B=2", "C=3"]
    assert merge_env([], ["X=1"]) == ["X=1"]


def test_env_and_cwd_are_verbatim(image_config: dict[str, Any]) -> None:
    image_config["config"]["WorkingDir"] = "/srv/app/"
    process = spec_from_image(merge_config(image_config, {"Env": ["LANG=en", "NEW=1"]}))["process"]
    assert process["env"] == [
        "LANG=en",
        "NEW=1",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]
    assert process["cwd"] == "/srv/app"
    assert spec_from_image(merge_config(image_config, {"WorkingDir": "/w"}))["process"]["cwd"] == "/w"


@pytest.mark.parametrize("env", [["=x"], [""]])
def test_empty_env_names_are_rejected(image_config: dict[str, Any], env: list[str]) -> None:
    with pytest.raises(InvalidParameterError, match="invalid environment variable"):
        merge_config(image_config, {"Env": env})


def test_relative_working_dir_is_rejected(image_config: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError, match="needs to be an absolute path"):
        spec_from_image(merge_config(image_config, {"WorkingDir": "rel"}))


def test_user_is_parsed(image_config: dict[str, Any], user_db: tuple[str, str]) -> None:
    passwd, group = user_db
    image_config["config"]["User"] = "app"
    user = spec_from_image(image_config, passwd=passwd, group=group)["process"]["user"]
    assert user == {"uid": 1000, "gid": 1000, "additionalGids": [1000, 10, 29]}
    # No User: root, with root's groups (busybox: `id` shows groups=0(root),10(wheel)).
    image_config["config"]["User"] = ""
    assert spec_from_image(image_config, passwd=passwd, group=group)["process"]["user"] == {
        "uid": 0,
        "gid": 0,
        "additionalGids": [0, 10],
    }
    # The container's User wins.
    merged = merge_config(image_config, {"User": "33:50"})
    assert spec_from_image(merged, passwd=passwd, group=group)["process"]["user"]["gid"] == 50


def test_unknown_user_is_an_error(image_config: dict[str, Any], user_db: tuple[str, str]) -> None:
    image_config["config"]["User"] = "ghost"
    with pytest.raises(
        InvalidParameterError, match="unable to find user ghost: no matching entries in passwd file"
    ):
        spec_from_image(image_config, passwd=user_db[0], group=user_db[1])


def test_annotations(image_config: dict[str, Any]) -> None:
    image_config["author"] = "someone"
    image_config["os.features"] = ["a", "b"]
    image_config["config"]["StopSignal"] = "SIGQUIT"
    image_config["config"]["ExposedPorts"] = {"80/tcp": {}, "53/udp": {}}
    image_config["config"]["Labels"] = {
        "maintainer": "me",
        "org.opencontainers.image.os": "label-wins",
        "run.oci.keep_original_groups": "1",
    }
    annotations = image_annotations(image_config)
    assert annotations == {
        "org.opencontainers.image.os": "label-wins",
        "org.opencontainers.image.architecture": "amd64",
        "org.opencontainers.image.os.features": "a,b",
        "org.opencontainers.image.author": "someone",
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "org.opencontainers.image.stopSignal": "SIGQUIT",
        "org.opencontainers.image.exposedPorts": "80/tcp,53/udp",
        "maintainer": "me",
    }
    assert spec_from_image(image_config)["annotations"] == annotations


def test_container_stop_signal_and_volumes_merge(image_config: dict[str, Any]) -> None:
    image_config["config"]["StopSignal"] = "SIGQUIT"
    image_config["config"]["Volumes"] = {"/data": {}}
    merged = merge_config(
        image_config, {"StopSignal": "SIGUSR1", "Volumes": {"/logs": {}}, "Labels": {"x": "y"}}
    )
    assert merged["config"]["StopSignal"] == "SIGUSR1"
    assert set(merged["config"]["Volumes"]) == {"/data", "/logs"}
    assert merged["config"]["Labels"] == {"maintainer": "me"}  # container labels don't become annotations
    assert image_config["config"]["StopSignal"] == "SIGQUIT"  # the input is not changed


def test_config_object_without_wrapper() -> None:
    spec = spec_from_image({"Cmd": ["true"], "Env": ["A=1"]})
    assert spec["process"]["args"] == ["true"] and spec["process"]["env"] == ["A=1"]
    assert "annotations" not in spec
