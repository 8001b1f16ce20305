"""Capability names ↔ numbers, and applying the spec's five sets to the calling process.

Order matters and is split in two because of setuid (capabilities(7), runc `finalizeNamespace`):
1. `drop_bounding()` while still root with CAP_SETPCAP: PR_CAPBSET_DROP every capability not in
   `bounding` (it cannot be raised again, by anyone in this process tree).
2. the caller switches uid/gid with PR_SET_KEEPCAPS, so the permitted set survives the switch;
3. `apply_sets()`: capset(effective, permitted, inheritable), then raise each `ambient` one with
   PR_CAP_AMBIENT (it must already be permitted and inheritable).

A spec without `capabilities` leaves them alone. Unknown names fail `create` (runtime-tools);
names the running kernel does not know (newer than /proc/sys/kernel/cap_last_cap) are skipped.
"""

from __future__ import annotations

from jockerd.capabilities import CAPABILITIES  # index = capability number (linux/capability.h)
from jockerd.runtime.errors import ContainerError
from jockerd.runtime.linux import constants as C

TYPE_CHECKING = False
if TYPE_CHECKING:
    from jockerd.runtime.linux.syscalls import Syscalls

CAPABILITY_NUMBERS = {name: number for number, name in enumerate(CAPABILITIES)}
SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def number(name: str) -> int:
    """CAP_SYS_ADMIN → 21; "SYS_ADMIN" and lower case are accepted too, as runc does."""
    key = name.upper()
    if not key.startswith("CAP_"):
        key = "CAP_" + key
    try:
        return CAPABILITY_NUMBERS[key]
    except KeyError:
        raise ContainerError(f"unknown capability {name!r}") from None


def name(cap: int) -> str:
    return CAPABILITIES[cap] if 0 <= cap < len(CAPABILITIES) else f"CAP_{cap}"


def validate(caps: dict | None) -> None:
    for kind in SETS:
        for cap in (caps or {}).get(kind) or ():
            number(cap)


def mask(names: list[str] | None, last_cap: int) -> int:
    bits = 0
    for cap_name in names or ():
        cap = number(cap_name)
        if cap <= last_cap:
            bits |= 1 << cap
    return bits


def last_cap(sys: Syscalls) -> int:
    try:
        return int(sys.read_file("/proc/sys/kernel/cap_last_cap"))
    except (OSError, ValueError):
        return len(CAPABILITIES) - 1


def drop_bounding(caps: dict, sys: Syscalls, top: int) -> None:
    keep = mask(caps.get("bounding"), top)
    for cap in range(top + 1):
        if not keep & (1 << cap):
            sys.prctl(C.PR_CAPBSET_DROP, cap)


def apply_sets(caps: dict, sys: Syscalls, top: int) -> None:
    effective = mask(caps.get("effective"), top)
    permitted = mask(caps.get("permitted"), top)
    inheritable = mask(caps.get("inheritable"), top)
    ambient = mask(caps.get("ambient"), top)
    sys.capset(effective, permitted, inheritable)
    for cap in range(top + 1):
        if ambient & (1 << cap):
            try:
                sys.prctl(C.PR_CAP_AMBIENT, C.PR_CAP_AMBIENT_RAISE, cap)
            except PermissionError:
                # Not in permitted ∩ inheritable: runc ignores it too (the spec example does this).
                pass


def format_mask(bits: int) -> list[str]:
    return [name(cap) for cap in range(64) if bits & (1 << cap)]
