"""Docker's filter rules shared by the image, container and event listings."""

from __future__ import annotations


def labels_match(labels: dict[str, str], filters: dict[str, list[str]]) -> bool:
    """`label=KEY` / `label=KEY=VALUE` (all must hold) and `label!=` (none may) of `filters`."""
    for wanted in filters.get("label", []):
        key, sep, value = wanted.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    for unwanted in filters.get("label!", []):
        key, sep, value = unwanted.partition("=")
        if key in labels and (not sep or labels[key] == value):
            return False
    return True
