"""NetworkService: Docker's predefined networks, `host` and `none`, read-only.

dockerd always has its predefined networks; with no bridge (`dockerd --bridge none`, which is
where jocker stands: a container's default network is its own namespace with loopback only)
they are exactly `host` (driver host) and `none` (driver null), scope local. Their IDs and
Created times are kept in data_root/network/predefined.json (store/networks.py), so they are
stable across restarts. Creating, removing, connecting and pruning are refused as dockerd
refuses them for predefined networks; a user-defined network cannot be created yet (501).

The rules and wordings are moby 20.10's (api/server/router/network: getNetworksList,
filterNetworks, getNetwork; daemon/network.go; runconfig.IsPreDefinedNetwork), checked side by
side with dockerd 20.10 run with `--bridge none`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from jockerd.errors import (
    ForbiddenError,
    InternalError,
    InvalidParameterError,
    NotFoundError,
    not_implemented,
)
from jockerd.ids import new_id
from jockerd.services.filters import labels_match
from jockerd.services.timefmt import rfc3339_nano, until_filter
from jockerd.store.networks import NetworkRecord, NetworkStore

# The networks jocker has, in dockerd's creation (and listing) order, with their drivers.
PREDEFINED_DRIVERS: dict[str, str] = {"none": "null", "host": "host"}
# runconfig.IsPreDefinedNetwork: the names no user network may take (bridge even without one).
PREDEFINED_NAMES = frozenset({"bridge", "host", "none", "default"})
LOCAL_SCOPE = "local"
LIST_FILTERS = frozenset({"dangling", "driver", "id", "label", "name", "scope", "type"})
PRUNE_FILTERS = frozenset({"label", "label!", "until"})
# runconfig.ErrConflictHostNetwork
CONFLICT_HOST_NETWORK = "container cannot be disconnected from host network or connected to host network"

# One endpoint as inspect's Containers shows it (types.EndpointResource).
Endpoint = dict[str, str]
# What the service asks of the containers: (network name) -> {container ID: endpoint}.
EndpointSource = Callable[[str], dict[str, Endpoint]]


def not_found(term: str) -> NotFoundError:
    return NotFoundError(f"network {term} not found")


def is_predefined(name: str) -> bool:
    return name in PREDEFINED_NAMES


# -- moby's filter rules, pure ---------------------------------------------------------------------


def _regex_match(patterns: list[str], value: str) -> bool:
    """filters.Args.Match: an exact value, or any pattern found in it (bad patterns skipped)."""
    if value in patterns:
        return True
    for pattern in patterns:
        try:
            if re.search(pattern, value):
                return True
        except re.error:
            continue
    return False


def check_list_filters(filters: dict[str, list[str]]) -> None:
    """dockerd's validation of `docker network ls` filters, in its order and words."""
    for key in filters:
        if key not in LIST_FILTERS:
            raise InvalidParameterError(f"Invalid filter '{key}'")
    dangling = filters.get("dangling", [])
    if len(dangling) > 1:
        raise InvalidParameterError('got more than one value for filter key "dangling"')
    if dangling and dangling[0] not in ("true", "1", "false", "0"):
        raise InvalidParameterError(
            'invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'
        )


def filter_networks(networks: list[dict[str, Any]], filters: dict[str, list[str]]) -> list[dict[str, Any]]:
    """moby's filterNetworks over inspect bodies (each with its real Containers)."""
    check_list_filters(filters)
    shown = []
    for network in networks:
        if filters.get("driver") and network["Driver"] not in filters["driver"]:
            continue
        if filters.get("name") and not _regex_match(filters["name"], network["Name"]):
            continue
        if filters.get("id") and not _regex_match(filters["id"], network["Id"]):
            continue
        if filters.get("label") and not labels_match(network["Labels"] or {}, {"label": filters["label"]}):
            continue
        if filters.get("scope") and network["Scope"] not in filters["scope"]:
            continue
        shown.append(network)
    if filters.get("dangling"):
        dangling = filters["dangling"][0] in ("true", "1")
        shown = [n for n in shown if (not is_predefined(n["Name"]) and not n["Containers"]) == dangling]
    if "type" in filters:
        typed: list[dict[str, Any]] = []
        for kind in filters["type"]:
            if kind == "builtin":
                typed.extend(n for n in shown if is_predefined(n["Name"]))
            elif kind == "custom":
                typed.extend(n for n in shown if not is_predefined(n["Name"]))
            else:
                raise InternalError(f"invalid filter: 'type'='{kind}'")
        shown = typed
    return shown


def find_network(term: str, networks: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The router's getNetwork: full ID, then exact name, then unique ID prefix."""
    by_name: dict[str, dict[str, Any]] = {}
    by_prefix: dict[str, dict[str, Any]] = {}
    for network in networks:
        if network["Id"] == term:
            return network
        if network["Name"] == term:
            by_name[network["Id"]] = network
        if term and network["Id"].startswith(term):
            by_prefix[network["Id"]] = network
    if len(by_name) == 1:
        return next(iter(by_name.values()))
    if len(by_name) > 1:
        raise InvalidParameterError(
            f"network {term} is ambiguous ({len(by_name)} matches found based on name)"
        )
    if len(by_prefix) == 1:
        return next(iter(by_prefix.values()))
    if len(by_prefix) > 1:
        raise InvalidParameterError(
            f"network {term} is ambiguous ({len(by_prefix)} matches found based on ID prefix)"
        )
    raise not_found(term)


def network_body(
    record: NetworkRecord, containers: dict[str, Endpoint], *, ipv4_field: bool
) -> dict[str, Any]:
    """The inspect body dockerd 20.10 writes for a predefined network; `EnableIPv4` (API 1.48+)
    sits between Driver and EnableIPv6, as in moby's network.Inspect."""
    body: dict[str, Any] = {
        "Name": record.name,
        "Id": record.id,
        "Created": record.created,
        "Scope": LOCAL_SCOPE,
        "Driver": record.driver,
    }
    if ipv4_field:
        body["EnableIPv4"] = False  # the swagger's example for host and none
    body.update({
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": []},
        "Internal": False,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": containers,
        "Options": {},
        "Labels": {},
    })  # fmt: skip
    return body


# -- the service -----------------------------------------------------------------------------------


class NetworkService:
    def __init__(self, store: NetworkStore) -> None:
        self.store = store
        self.records: dict[str, NetworkRecord] = {}
        # The daemon sets it: the running containers' endpoints on a network (by name).
        self.endpoints: EndpointSource = lambda name: {}

    def restore(self) -> None:
        """Load the predefined networks' identities, making (and keeping) any missing one."""
        stored = self.store.load()
        records: dict[str, NetworkRecord] = {}
        for name, driver in PREDEFINED_DRIVERS.items():
            record = stored.get(name)
            if record is None or record.driver != driver or record.name != name:
                record = NetworkRecord(name=name, id=new_id(), driver=driver, created=rfc3339_nano())
            records[name] = record
        if records != stored:
            self.store.save(records)
        self.records = records

    def id_of(self, name: str) -> str:
        """The ID of the predefined network `name` ("" for any other: default, container:…)."""
        record = self.records.get(name)
        return record.id if record else ""

    def _bodies(self, *, with_containers: bool, ipv4_field: bool) -> list[dict[str, Any]]:
        return [
            network_body(r, self.endpoints(r.name) if with_containers else {}, ipv4_field=ipv4_field)
            for r in self.records.values()
        ]

    async def list(self, filters: dict[str, list[str]], *, ipv4_field: bool = True) -> list[dict[str, Any]]:
        """dockerd's list: Containers stays empty there; dangling looks at the real ones."""
        check_list_filters(filters)
        networks = self._bodies(with_containers=True, ipv4_field=ipv4_field)
        shown = filter_networks(networks, filters)
        return [{**n, "Containers": {}} for n in shown]

    async def inspect(self, term: str, *, scope: str = "", ipv4_field: bool = True) -> dict[str, Any]:
        networks = self._bodies(with_containers=False, ipv4_field=ipv4_field)
        if scope:
            networks = [n for n in networks if n["Scope"] == scope]
        found = find_network(term, networks)
        return {**found, "Containers": self.endpoints(found["Name"])}

    def _find(self, term: str) -> dict[str, Any]:
        return find_network(term, self._bodies(with_containers=False, ipv4_field=False))

    async def remove(self, term: str) -> None:
        found = self._find(term)
        if is_predefined(found["Name"]):
            raise ForbiddenError(f"{found['Name']} is a pre-defined network and cannot be removed")
        raise not_implemented("NetworkDelete (DELETE /networks/{id})")  # pragma: no cover

    async def create(self, name: str) -> None:
        if is_predefined(name):
            raise ForbiddenError(f"operation is not permitted on predefined {name} network ")
        raise not_implemented("NetworkCreate (POST /networks/create)")

    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        """Only predefined networks exist, and prune never takes those: nothing to prune."""
        for key in filters:
            if key not in PRUNE_FILTERS:
                raise InvalidParameterError(f"Invalid filter '{key}'")
        if filters.get("until"):
            try:
                until_filter(filters["until"])
            except InvalidParameterError:
                value = filters["until"][-1]
                raise InternalError(f'failed to parse value as time or duration: "{value}"') from None
        return {"NetworksDeleted": None}

    async def connect(self, term: str, container: dict[str, Any], *, disconnect: bool) -> None:
        """What dockerd answers for host and none (`container` is the container's inspect body);
        everything else needs networking jocker lacks (501)."""
        found = self._find(term)
        mode = (container.get("HostConfig") or {}).get("NetworkMode") or "default"
        if found["Name"] == "host" and (not disconnect or mode == "host"):
            raise InvalidParameterError(CONFLICT_HOST_NETWORK)
        if disconnect:
            attached = (container.get("NetworkSettings") or {}).get("Networks") or {}
            running = (container.get("State") or {}).get("Running")
            if running and found["Name"] not in attached:
                name = found["Name"]
                raise InternalError(f"container {container['Id']} is not connected to network {name}")
            raise not_implemented("NetworkDisconnect (POST /networks/{id}/disconnect)")
        raise not_implemented("NetworkConnect (POST /networks/{id}/connect)")
