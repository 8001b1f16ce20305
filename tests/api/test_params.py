"""Query parameter coercion with Docker's rules (moby api/server/httputils and api/types/filters).

Requests are aiohttp's own mocked requests: real query parsing, no server.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from jockerd.api.params import parse_filters, query_bool, query_filters, query_int
from jockerd.errors import InvalidParameterError


def request(query: str) -> web.Request:
    return make_mocked_request("GET", f"/images/json?{query}" if query else "/images/json")


# -- query_bool ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", "yes", "on", "anything", " 1 ", "2"])
def test_query_bool_true(value: str) -> None:
    assert query_bool(request(f"all={urllib.parse.quote(value)}"), "all") is True


@pytest.mark.parametrize("value", ["", "0", "false", "False", "FALSE", "no", "No", "none", "NONE", " false "])
def test_query_bool_false(value: str) -> None:
    assert query_bool(request(f"all={urllib.parse.quote(value)}"), "all", default=True) is False


def test_query_bool_absent_is_the_default() -> None:
    assert query_bool(request(""), "all") is False
    assert query_bool(request(""), "all", default=True) is True
    assert query_bool(request("other=1"), "all") is False


def test_query_bool_present_but_empty_is_false() -> None:
    assert query_bool(request("all="), "all", default=True) is False
    assert query_bool(request("all"), "all", default=True) is False


# -- query_int -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("10", 10), ("-1", -1), ("+5", 5), ("007", 7)])
def test_query_int(value: str, expected: int) -> None:
    assert query_int(request(f"limit={urllib.parse.quote(value)}"), "limit") == expected


def test_query_int_absent_or_empty_is_the_default() -> None:
    assert query_int(request(""), "limit") is None
    assert query_int(request(""), "limit", default=-1) == -1
    assert query_int(request("limit="), "limit", default=3) == 3


@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", " 1", "1_000", "0x10", "\u0661", "--1"])
def test_query_int_rejects_what_go_rejects(value: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        query_int(request(f"limit={urllib.parse.quote(value)}"), "limit")
    assert str(info.value) == f"invalid value for limit: {value!r}: must be an integer"
    assert info.value.status == 400


# -- filters -------------------------------------------------------------------------------------


def test_filters_map_form() -> None:
    """What the docker CLI sends: {"key": {"value": true}}."""
    raw = json.dumps({"dangling": {"true": True}, "label": {"a=b": True, "c": True}})
    assert parse_filters(raw) == {"dangling": ["true"], "label": ["a=b", "c"]}


def test_filters_legacy_list_form() -> None:
    raw = json.dumps({"reference": ["busybox", "jtr/*"], "dangling": ["false"]})
    assert parse_filters(raw) == {"reference": ["busybox", "jtr/*"], "dangling": ["false"]}


def test_filters_empty() -> None:
    assert parse_filters("") == {}
    assert parse_filters("{}") == {}
    assert parse_filters(json.dumps({"label": []})) == {"label": []}


def test_query_filters_reads_the_filters_parameter() -> None:
    raw = urllib.parse.quote(json.dumps({"reference": {"busybox:*": True}}))
    assert query_filters(request(f"filters={raw}")) == {"reference": ["busybox:*"]}
    assert query_filters(request("")) == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "invalid filter: "),
        ('["dangling"]', "invalid filter: filters must be a JSON object"),
        ('"dangling"', "invalid filter: filters must be a JSON object"),
        ('{"dangling": "true"}', "invalid filter: value of 'dangling' must be a list"),
        ('{"dangling": true}', "invalid filter: value of 'dangling' must be a list"),
        ('{"label": [1, 2]}', "invalid filter: value of 'label' must be a list"),
        ('{"label": {"a": "yes"}}', "invalid filter: value of 'label' must be a list"),
    ],
)
def test_filters_errors(raw: str, message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_filters(raw)
    assert str(info.value).startswith(message)
    assert info.value.status == 400
