"""docker login / pull / push with credentials: htpasswd basic auth on the real registry, and
Docker Hub's bearer tokens through the test proxy's token endpoint.

dockerd's wordings (moby registry/auth.go loginV2, docker/distribution's auth transport):
- basic auth, wrong password: `login attempt to http://HOST/v2/ failed with status: 401 Unauthorized`;
- bearer, wrong password: `Get "http://HOST/v2/": unauthorized: incorrect username or password`;
- a pull with no credentials for a basic-auth registry: `... no basic auth credentials`;
- a push the token does not allow: `denied: requested access to the resource is denied`.
No password (nor its base64) may appear in jockerd's log (at debug level), the registry's, or the
proxy's.
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.registry.conftest import PASSWORD, USER, requests_of, start_jockerd, stop_jockerd

pytestmark = [pytest.mark.root]

WRONG = "not-the-password"


@pytest.fixture(scope="module")
def auth_jockerd(tmp_path_factory, netns):
    daemon = start_jockerd(tmp_path_factory.mktemp("jockerd"), netns, "--log-level", "debug")
    try:
        yield daemon
    finally:
        stop_jockerd(daemon)


def login(daemon, host: str, password: str, user: str = USER):
    return daemon.docker("login", "-u", user, "--password-stdin", host, input=password.encode())


def write_cli_auth(daemon, host: str, password: str) -> None:
    """What `docker login` would have saved, had the registry accepted these credentials."""
    config = daemon.root / "cli" / "config.json"
    config.parent.mkdir(exist_ok=True)
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def cli_config(daemon) -> dict:
    return json.loads((daemon.root / "cli" / "config.json").read_text())


def assert_no_secret_in(*logs) -> None:
    secrets = [PASSWORD, WRONG, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()]
    for log in logs:
        text = log.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a credential is in {log}"


def test_basic_auth_registry(auth_jockerd, basic_registry):
    daemon, host = auth_jockerd, basic_registry.host
    ref = f"{host}/busybox:latest"

    result = daemon.docker("pull", ref)
    assert result.returncode == 1
    assert result.stderr == (
        f'Error response from daemon: Get "http://{host}/v2/busybox/manifests/latest": '
        "no basic auth credentials\n"
    )

    result = login(daemon, host, WRONG)
    assert result.returncode == 1
    assert result.stderr.endswith(
        f"Error response from daemon: login attempt to http://{host}/v2/ "
        "failed with status: 401 Unauthorized\n"
    )

    # wrong credentials stored in the CLI's config: the registry refuses the pull
    config = daemon.root / "cli" / "config.json"
    config.parent.mkdir(exist_ok=True)
    config.write_text(
        json.dumps({"auths": {host: {"auth": base64.b64encode(f"{USER}:{WRONG}".encode()).decode()}}})
    )
    result = daemon.docker("pull", ref)
    assert result.returncode == 1
    assert result.stderr == "Error response from daemon: unauthorized: authentication required\n"

    result = login(daemon, host, PASSWORD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Login Succeeded")
    assert host in cli_config(daemon)["auths"]
    out = daemon.docker_ok("pull", ref)
    assert out.splitlines()[-2] == f"Status: Downloaded newer image for {ref}"
    assert daemon.docker_ok("run", "--rm", ref, "echo", "authenticated") == "authenticated\n"

    assert_no_secret_in(daemon.log, basic_registry.log)


def test_bearer_token_auth(auth_jockerd, token_proxy, open_registry):
    daemon, host = auth_jockerd, token_proxy.host
    ref = f"{host}/busybox:latest"

    # anonymous pull: 401 on /v2/, then an anonymous token from the realm
    out = daemon.docker_ok("pull", ref)
    assert out.splitlines()[-2] == f"Status: Downloaded newer image for {ref}"
    tokens = [r for r in requests_of(token_proxy) if r.get("event") == "token"]
    assert tokens and tokens[0]["user"] is None
    assert tokens[0]["scopes"] == ["repository:busybox:pull"]

    # an anonymous token may not push
    target = f"{host}/alice/pushed:v1"
    daemon.docker_ok("tag", ref, target)
    result = daemon.docker("push", target)
    assert result.returncode == 1
    assert result.stderr == "denied: requested access to the resource is denied\n"

    result = login(daemon, host, WRONG)
    assert result.returncode == 1
    assert result.stderr.endswith(
        f'Error response from daemon: Get "http://{host}/v2/": unauthorized: incorrect username or password\n'
    )

    # wrong credentials stored in the CLI's config: the token service refuses them on the pull
    write_cli_auth(daemon, host, WRONG)
    result = daemon.docker("pull", ref)
    assert result.returncode == 1
    assert result.stderr == (
        f'Error response from daemon: Get "http://{host}/v2/busybox/manifests/latest": '
        "unauthorized: incorrect username or password\n"
    )

    result = login(daemon, host, PASSWORD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("Login Succeeded")
    # the token service handed out a refresh token: the CLI keeps it instead of the password
    saved = cli_config(daemon)["auths"][host]
    assert saved.get("identitytoken")
    assert base64.b64decode(saved["auth"]) == f"{USER}:".encode()

    lines = daemon.docker_ok("push", target).splitlines()
    assert lines[-1].startswith("v1: digest: sha256:")
    redeemed = [r for r in requests_of(token_proxy) if r.get("event") == "token" and r["method"] == "POST"]
    assert redeemed and redeemed[-1]["user"] == USER
    assert "repository:alice/pushed:pull,push" in redeemed[-1]["scopes"][0]

    assert_no_secret_in(daemon.log, token_proxy.root / "requests.jsonl", token_proxy.log, open_registry.log)
