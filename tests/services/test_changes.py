"""`--change` instructions (docker import / commit) applied to an image's config section.

Expected values follow moby's BuildFromConfig and the Dockerfile parser it uses: JSON arrays
are the exec form, anything else runs under `/bin/sh -c`; ENV and LABEL take `k=v` pairs or
the legacy `k value`; EXPOSE defaults to tcp; the changes read as one Dockerfile.
"""

from __future__ import annotations

from typing import Any

import pytest

from jockerd.errors import InvalidParameterError
from jockerd.services.changes import apply_changes


def apply(*changes: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_changes(config or {}, list(changes))


# -- CMD and ENTRYPOINT -------------------------------------------------------------------------


@pytest.mark.parametrize(("verb", "field"), [("CMD", "Cmd"), ("ENTRYPOINT", "Entrypoint")])
def test_exec_form(verb: str, field: str) -> None:
    assert apply(f'{verb} ["/bin/echo", "a b", "c"]')[field] == ["/bin/echo", "a b", "c"]
    assert apply(f"{verb} []")[field] == []


@pytest.mark.parametrize(("verb", "field"), [("CMD", "Cmd"), ("ENTRYPOINT", "Entrypoint")])
def test_shell_form(verb: str, field: str) -> None:
    assert apply(f"{verb} echo hello  world")[field] == ["/bin/sh", "-c", "echo hello  world"]
    # Text that only looks like JSON is shell form too.
    assert apply(f"{verb} [not json")[field] == ["/bin/sh", "-c", "[not json"]


@pytest.mark.parametrize("verb", ["CMD", "ENTRYPOINT", "VOLUME"])
def test_json_array_of_non_strings(verb: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(f'{verb} ["/bin/echo", 1]')
    assert str(info.value) == "when using JSON array syntax, arrays must be comprised of strings only"


def test_entrypoint_drops_the_inherited_cmd() -> None:
    base = {"Cmd": ["sh"], "Entrypoint": None}
    assert apply('ENTRYPOINT ["/bin/app"]', config=base) == {"Cmd": None, "Entrypoint": ["/bin/app"]}
    # A CMD given in the same changes survives a later ENTRYPOINT.
    out = apply('CMD ["--help"]', 'ENTRYPOINT ["/bin/app"]', config=base)
    assert out == {"Cmd": ["--help"], "Entrypoint": ["/bin/app"]}
    # And a CMD after it is simply set.
    assert apply('ENTRYPOINT ["/bin/app"]', 'CMD ["-v"]', config=base)["Cmd"] == ["-v"]


# -- ENV and LABEL ------------------------------------------------------------------------------


def test_env_pairs() -> None:
    out = apply('ENV K=V K2="a b" K3=a\\ b EMPTY=')
    assert out["Env"] == ["K=V", "K2=a b", "K3=a b", "EMPTY="]


def test_env_legacy_form() -> None:
    assert apply("ENV GREETING hello big   world")["Env"] == ["GREETING=hello big   world"]
    assert apply("ENV\tTAB\tseparated")["Env"] == ["TAB=separated"]


def test_env_replaces_in_place() -> None:
    base = {"Env": ["PATH=/bin", "A=1", "B=2"]}
    out = apply("ENV A=3 C=4", config=base)
    assert out["Env"] == ["PATH=/bin", "A=3", "B=2", "C=4"]
    assert base["Env"] == ["PATH=/bin", "A=1", "B=2"], "the input config is not modified"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("ENV", "ENV requires at least one argument"),
        ("ENV ONLYKEY", "ENV must have two arguments"),
        ("ENV A=1 B", 'Syntax error - can\'t find = in "B". Must be of the form: name=value'),
        ("ENV =value", "ENV names can not be blank"),
        ("LABEL", "LABEL requires at least one argument"),
        ("LABEL onlykey", "LABEL must have two arguments"),
        ("LABEL =x", "LABEL names can not be blank"),
    ],
)
def test_env_and_label_errors(change: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(change)
    assert str(info.value) == message


def test_unbalanced_quote_is_a_client_error() -> None:
    with pytest.raises(InvalidParameterError):
        apply('ENV A="unterminated')


def test_label_forms() -> None:
    out = apply('LABEL a=1 b="two words"', "LABEL legacy some value", config={"Labels": {"a": "0", "z": "9"}})
    assert out["Labels"] == {"a": "1", "z": "9", "b": "two words", "legacy": "some value"}
    assert apply('LABEL "com.example.vendor"="ACME Inc"')["Labels"] == {"com.example.vendor": "ACME Inc"}


# -- EXPOSE and VOLUME --------------------------------------------------------------------------


def test_expose() -> None:
    out = apply("EXPOSE 80 53/udp 132/SCTP", config={"ExposedPorts": {"22/tcp": {}}})
    assert out["ExposedPorts"] == {"22/tcp": {}, "80/tcp": {}, "53/udp": {}, "132/sctp": {}}


def test_expose_range() -> None:
    assert apply("EXPOSE 8000-8002/udp")["ExposedPorts"] == {"8000/udp": {}, "8001/udp": {}, "8002/udp": {}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("EXPOSE", "EXPOSE requires at least one argument"),
        ("EXPOSE http", "invalid containerPort: http"),
        ("EXPOSE 70000", "invalid containerPort: 70000"),
        ("EXPOSE 90-80", "invalid containerPort: 90-80"),
        ("EXPOSE 80/icmp", "invalid proto: icmp"),
    ],
)
def test_expose_errors(change: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(change)
    assert str(info.value) == message


def test_volume_forms() -> None:
    assert apply('VOLUME ["/data", "/with space"]')["Volumes"] == {"/data": {}, "/with space": {}}
    out = apply("VOLUME /a /b", config={"Volumes": {"/old": {}}})
    assert out["Volumes"] == {"/old": {}, "/a": {}, "/b": {}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("VOLUME", "VOLUME requires at least one argument"),
        ("VOLUME []", "VOLUME requires at least one argument"),
        ('VOLUME ["/a", ""]', "VOLUME specified can not be an empty string"),
    ],
)
def test_volume_errors(change: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(change)
    assert str(info.value) == message


# -- the single-value instructions --------------------------------------------------------------


def test_user_workdir_stopsignal() -> None:
    out = apply("USER 1000:1000", "WORKDIR /srv/app", "STOPSIGNAL SIGQUIT")
    assert out == {"User": "1000:1000", "WorkingDir": "/srv/app", "StopSignal": "SIGQUIT"}


def test_relative_workdir_joins_the_current_one() -> None:
    assert apply("WORKDIR app")["WorkingDir"] == "/app"
    assert apply("WORKDIR /srv", "WORKDIR app/../web")["WorkingDir"] == "/srv/web"
    assert apply("WORKDIR sub", config={"WorkingDir": "/home"})["WorkingDir"] == "/home/sub"


@pytest.mark.parametrize("verb", ["USER", "WORKDIR", "STOPSIGNAL"])
def test_single_argument_required(verb: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(verb)
    assert str(info.value) == f"{verb} requires exactly one argument"


def test_onbuild() -> None:
    out = apply("ONBUILD RUN make", "onbuild COPY . /src", config={"OnBuild": ["RUN a"]})
    assert out["OnBuild"] == ["RUN a", "RUN make", "COPY . /src"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("ONBUILD", "ONBUILD requires at least one argument"),
        ("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ONBUILD from busybox", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD MAINTAINER me", "MAINTAINER isn't allowed as an ONBUILD trigger"),
    ],
)
def test_onbuild_errors(change: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(change)
    assert str(info.value) == message


# -- instruction names and line handling --------------------------------------------------------


def test_instructions_are_case_insensitive() -> None:
    assert apply("cmd echo", "Env A=1") == {"Cmd": ["/bin/sh", "-c", "echo"], "Env": ["A=1"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("FOO bar", "foo is not a valid change command"),
        ("foo bar", "foo is not a valid change command"),
        ("RUN echo", "run is not a valid change command"),
        ("FROM busybox", "from is not a valid change command"),
        ("ADD . /", "add is not a valid change command"),
    ],
)
def test_invalid_instruction(change: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        apply(change)
    assert str(info.value) == message
    assert info.value.status == 400


def test_multi_line_change() -> None:
    out = apply('ENV A=1\nEXPOSE 80\n\n  # a comment\nCMD ["x"]\n', "USER nobody")
    assert out == {"Env": ["A=1"], "ExposedPorts": {"80/tcp": {}}, "Cmd": ["x"], "User": "nobody"}


def test_line_continuation() -> None:
    out = apply("ENV A=1 \\\n    B=2 \\\n# comment inside\n\n    C=3", "LABEL x=1")
    assert out == {"Env": ["A=1", "B=2", "C=3"], "Labels": {"x": "1"}}


def test_changes_apply_in_order() -> None:
    assert apply("USER a", "USER b")["User"] == "b"
    assert apply("CMD one", 'CMD ["two"]')["Cmd"] == ["two"]


def test_no_changes_copy_the_config() -> None:
    base = {"Env": ["A=1"]}
    out = apply_changes(base, [])
    assert out == base and out is not base
    assert apply_changes(base, ["", "   ", "# only a comment"]) == base


def test_an_error_leaves_the_input_untouched() -> None:
    base = {"Env": ["A=1"]}
    with pytest.raises(InvalidParameterError):
        apply_changes(base, ["ENV B=2", "BOGUS"])
    assert base == {"Env": ["A=1"]}
