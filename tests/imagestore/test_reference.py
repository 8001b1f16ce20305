"""Image references, normalized as Docker normalizes them.

The oracle is distribution/reference, the package moby uses: the grammar in its reference.go
doc comment, ParseNormalizedNamed and splitDockerDomain in normalize.go, Parse's error values,
and go-digest's Validate for the digest part. Each expected string below is what those
functions return for the input; the error messages are theirs word for word, because the
daemon sends them to clients unchanged.
"""

from __future__ import annotations

import pytest

from jockerd.errors import InvalidParameterError
from jockerd.imagestore.reference import (
    DEFAULT_DOMAIN,
    NAME_TOTAL_LENGTH_MAX,
    Reference,
    is_sha256_digest,
    parse_reference,
    parse_repository,
    valid_tag,
)

HEX64 = "0123456789abcdef" * 4
DIGEST = f"sha256:{HEX64}"
SHA512 = "sha512:" + "f" * 128


@pytest.mark.parametrize(
    ("value", "normalized", "familiar"),
    [
        # Familiar Docker Hub names get docker.io, library/ (one component only) and :latest.
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/x", "docker.io/library/x:latest", "x:latest"),
        ("index.docker.io/jtr/x:v1", "docker.io/jtr/x:v1", "jtr/x:v1"),
        ("jtr/bb:v1", "docker.io/jtr/bb:v1", "jtr/bb:v1"),
        ("a/b/c", "docker.io/a/b/c:latest", "a/b/c:latest"),
        # library/ is only hidden when one component follows it (familiarizeName).
        ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
        # Registries: localhost, anything with "." or ":", and uppercase first components.
        ("localhost/x", "localhost/x:latest", "localhost/x:latest"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest", "localhost:5000/a/b:latest"),
        ("127.0.0.1:5055/jtr/pushed", "127.0.0.1:5055/jtr/pushed:latest", "127.0.0.1:5055/jtr/pushed:latest"),
        ("[::1]:5000/x", "[::1]:5000/x:latest", "[::1]:5000/x:latest"),
        ("[2001:db8::1]/repo:tag", "[2001:db8::1]/repo:tag", "[2001:db8::1]/repo:tag"),
        ("example.com/x", "example.com/x:latest", "example.com/x:latest"),
        (
            "xn--n3h.com/myimage:xn--n3h.com",
            "xn--n3h.com/myimage:xn--n3h.com",
            "xn--n3h.com/myimage:xn--n3h.com",
        ),
        ("test:5000/repo:5050", "test:5000/repo:5050", "test:5000/repo:5050"),
        ("Registry/x", "Registry/x:latest", "Registry/x:latest"),
        # A single component is never a registry: these are repositories with tags.
        ("localhost", "docker.io/library/localhost:latest", "localhost:latest"),
        ("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"),
        ("192.168.1.1:5000", "docker.io/library/192.168.1.1:5000", "192.168.1.1:5000"),
        # Path separators: ".", "_", "__" and runs of "-".
        ("a.b_c__d---e", "docker.io/library/a.b_c__d---e:latest", "a.b_c__d---e:latest"),
        # Tags: word characters, dots and dashes, not leading; uppercase allowed.
        ("x:v1.2-rc_3", "docker.io/library/x:v1.2-rc_3", "x:v1.2-rc_3"),
        ("x:Latest", "docker.io/library/x:Latest", "x:Latest"),
        ("x:_under", "docker.io/library/x:_under", "x:_under"),
        # 64 hex characters are only refused alone; with a tag they name a repository.
        (f"{HEX64}:tag", f"docker.io/library/{HEX64}:tag", f"{HEX64}:tag"),
        (f"library/{HEX64}", f"docker.io/library/{HEX64}:latest", f"{HEX64}:latest"),
    ],
)
def test_normalization(value: str, normalized: str, familiar: str) -> None:
    ref = parse_reference(value)
    assert str(ref) == normalized
    assert ref.familiar() == familiar
    assert parse_reference(normalized) == ref, "normalizing is idempotent"
    assert parse_reference(familiar) == ref, "the familiar form reads back as the same reference"


@pytest.mark.parametrize(
    ("value", "domain", "path"),
    [
        ("busybox", DEFAULT_DOMAIN, "library/busybox"),
        ("localhost:5000/a/b", "localhost:5000", "a/b"),
        ("127.0.0.1:5055/jtr/pushed", "127.0.0.1:5055", "jtr/pushed"),
        ("[::1]:5000/x", "[::1]:5000", "x"),
        ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux"),
        ("index.docker.io/x", DEFAULT_DOMAIN, "library/x"),
    ],
)
def test_domain_and_path(value: str, domain: str, path: str) -> None:
    ref = parse_reference(value)
    assert (ref.domain, ref.path) == (domain, path)
    assert ref.name == f"{domain}/{path}"


def test_familiar_name_is_the_repository_alone() -> None:
    assert parse_reference("busybox:1").familiar_name() == "busybox"
    assert parse_reference("jtr/bb:v1").familiar_name() == "jtr/bb"
    assert parse_reference("localhost:5000/x:v").familiar_name() == "localhost:5000/x"


def test_digest_references() -> None:
    ref = parse_reference(f"busybox@{DIGEST}")
    assert (ref.tag, ref.digest) == (None, DIGEST), "a digest reference gets no default tag"
    assert str(ref) == f"docker.io/library/busybox@{DIGEST}"
    assert ref.familiar() == f"busybox@{DIGEST}"

    both = parse_reference(f"localhost:5000/a/b:v1@{DIGEST}")
    assert (both.domain, both.path, both.tag, both.digest) == ("localhost:5000", "a/b", "v1", DIGEST)
    assert str(both) == f"localhost:5000/a/b:v1@{DIGEST}"

    assert parse_reference(f"x@{SHA512}").digest == SHA512
    assert parse_reference(f"[::1]:5000/x@{DIGEST}").domain == "[::1]:5000"


def test_default_tag_can_be_left_off() -> None:
    ref = parse_reference("busybox", default_tag=False)
    assert ref.tag is None and str(ref) == "docker.io/library/busybox"
    assert parse_reference("busybox:1", default_tag=False).tag == "1"


def test_with_tag_and_with_digest() -> None:
    ref = parse_reference(f"jtr/bb:v1@{DIGEST}")
    assert str(ref.with_tag("v2")) == "docker.io/jtr/bb:v2"
    assert str(ref.with_digest(DIGEST)) == f"docker.io/jtr/bb@{DIGEST}"
    assert Reference("docker.io", "library/x", "t").familiar() == "x:t"


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "invalid reference format"),
        (":justtag", "invalid reference format"),
        (f"@{DIGEST}", "invalid reference format"),
        ("aa/asdf$$^/aa", "invalid reference format"),
        ("a//b", "invalid reference format"),
        ("-x", "invalid reference format"),
        ("x-", "invalid reference format"),
        ("x/", "invalid reference format"),
        ("x:", "invalid reference format"),
        ("x:-bad", "invalid reference format"),
        ("x:.bad", "invalid reference format"),
        ("x:tag with space", "invalid reference format"),
        ("x:t\u00e9", "invalid reference format"),  # Go's \w is ASCII only
        ("Bad Name", "invalid reference format: repository name (library/Bad Name) must be lowercase"),
        ("busybox\n", "invalid reference format"),
        ("busybox:v1\n", "invalid reference format"),
        ("[2001:db8::1]:5000", "invalid reference format"),
        ("[fe80::1%eth0]:5000/repo", "invalid reference format"),
        ("localhost:port/x", "invalid reference format"),
        ("-host.com/x", "invalid reference format"),
    ],
)
def test_invalid_format(value: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_reference(value)
    assert str(info.value) == message
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("value", "remote"),
    [
        # The message names the repository after normalization, up to the first ":".
        ("Busybox", "library/Busybox"),
        ("Busybox:v1", "library/Busybox"),
        ("jtr/BB:v1", "jtr/BB"),
        ("docker.io/Busybox", "library/Busybox"),
        ("localhost:5000/Foo:v1", "Foo"),
        ("Registry/Repo", "Repo"),
    ],
)
def test_uppercase_repository(value: str, remote: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_reference(value)
    assert str(info.value) == f"invalid reference format: repository name ({remote}) must be lowercase"


def test_uppercase_deeper_in_a_registry_path() -> None:
    with pytest.raises(InvalidParameterError, match="must be lowercase"):
        parse_reference("test:5000/Uppercase/lowercase:tag")


def test_64_hex_repository_name() -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_reference(HEX64)
    assert str(info.value) == f"invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings"
    with pytest.raises(InvalidParameterError, match="64-byte hexadecimal"):
        parse_repository(HEX64)
    # Not 64, or not all lowercase hex: an ordinary name.
    assert parse_reference(HEX64[:63]).path == f"library/{HEX64[:63]}"
    assert parse_reference(HEX64 + "0").path == f"library/{HEX64}0"


def test_tag_length_limit() -> None:
    assert parse_reference("x:" + "a" * 128).tag == "a" * 128
    with pytest.raises(InvalidParameterError, match=r"^invalid reference format$"):
        parse_reference("x:" + "a" * 129)


def test_repository_length_limit() -> None:
    too_long = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
    with pytest.raises(InvalidParameterError) as info:
        parse_reference("a" * 256)
    assert str(info.value) == too_long
    # The limit applies to the normalized path: library/ counts.
    with pytest.raises(InvalidParameterError, match=too_long):
        parse_reference("a" * 250)
    with pytest.raises(InvalidParameterError, match=too_long):
        parse_reference("a/" * 128 + "a:tag")
    assert parse_reference("a" * 200).path == "library/" + "a" * 200
    assert parse_reference("localhost:5000/" + "a" * 240).path == "a" * 240


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("repo@sha256:" + "f" * 34, "invalid checksum digest length"),
        ("repo@sha256:" + "f" * 65, "invalid checksum digest length"),
        ("repo@sha256:" + "F" * 64, "invalid checksum digest format"),
        ("validname@invaliddigest:" + "f" * 64, "unsupported digest algorithm"),
        ("repo@md5:" + "f" * 32, "unsupported digest algorithm"),
        ("repo@sha256:" + "f" * 31, "invalid reference format"),  # under the grammar's 32
        ("repo@sha256:" + "g" * 64, "invalid reference format"),
    ],
)
def test_invalid_digest(value: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_reference(value)
    assert str(info.value) == message


# -- tags and repositories on their own ---------------------------------------------------------


@pytest.mark.parametrize("tag", ["latest", "v1", "1.36.1", "v1.2-rc_3", "UPPER", "_x", "9", "a" * 128])
def test_valid_tag(tag: str) -> None:
    assert valid_tag(tag)


@pytest.mark.parametrize(
    "tag", ["", "-x", ".x", "a" * 129, "a b", "a:b", "a/b", "a@b", "t\u00e9", "v1\n", "\u0661"]
)
def test_invalid_tag(tag: str) -> None:
    assert not valid_tag(tag)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("busybox", "docker.io/library/busybox"),
        ("jtr/bb", "docker.io/jtr/bb"),
        ("localhost:5000/a/b", "localhost:5000/a/b"),
        ("127.0.0.1:5055/jtr/pushed", "127.0.0.1:5055/jtr/pushed"),
        ("[::1]:5000/x", "[::1]:5000/x"),
        ("index.docker.io/x", "docker.io/library/x"),
    ],
)
def test_parse_repository(value: str, name: str) -> None:
    ref = parse_repository(value)
    assert ref.name == name
    assert (ref.tag, ref.digest) == (None, None), "no default tag for a repository"
    assert str(ref.with_tag("v9")) == f"{name}:v9"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("busybox:v1", "invalid reference format"),
        (f"busybox@{DIGEST}", "invalid reference format"),
        ("", "invalid reference format"),
        ("Bad Name", "invalid reference format: repository name (library/Bad Name) must be lowercase"),
        ("Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"),
        ("a" * 256, "repository name must not be more than 255 characters"),
    ],
)
def test_parse_repository_errors(value: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_repository(value)
    assert str(info.value) == message


def test_is_sha256_digest() -> None:
    assert is_sha256_digest(DIGEST)
    assert not is_sha256_digest(HEX64)
    assert not is_sha256_digest(DIGEST.upper())
    assert not is_sha256_digest(DIGEST[:-1])
    assert not is_sha256_digest(DIGEST + "\n")
    assert not is_sha256_digest(SHA512)
