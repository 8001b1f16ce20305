"""One file holding the compiled code of the runtime's modules, for the launcher's start-up.

Why: the runtime starts a Python process per container operation, and a `run` imports ~28
jockerd modules. Through the regular import system each costs ~100 µs here whatever its size
(the path finder's stats, opening, reading and validating its .pyc, ~200 Python-level calls in
importlib), ~3 ms of a ~35 ms `run` (measured: launcher with and without this cache, same
machine, alternating hyperfine runs).

How: `install()` reads `__pycache__/runtime-modules.<cache tag>.bin` next to this module, one read and
one unmarshal, and puts a finder first on `sys.meta_path`. For each module the file holds its
source path, the source's mtime (seconds) and size when it was compiled, and its marshalled
code. The finder serves a jockerd module from the file only while its source's stat still
matches, the check Python itself makes for a timestamp .pyc; otherwise it leaves the module to
the regular import (and notes the miss). Modules keep their real `__file__` and package
`__path__`, so anything not in the file is found the usual way.

`save()`, which the launcher calls before the process exits, rewrites the file after a miss:
every jockerd module now loaded (their code taken from the .pyc files the regular import has just
validated or written) plus the entries still valid. The file is replaced atomically; errors are
ignored, the cache is only an accelerator. So the first run after a change of the code pays the
regular import and the rewrite, the following ones do not.

Only the launcher uses this (`.venv/bin/jocker-runtime`, written by setup.sh); `python -m
jockerd.runtime`, the daemon and the tests import normally.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType

_PACKAGE = "jockerd"
_CACHE = os.path.join(
    os.path.dirname(__file__), "__pycache__", f"runtime-modules.{sys.implementation.cache_tag}.bin"
)
# The bytecode version of this interpreter: a file written by another one is ignored.
_MAGIC = sys.modules["_frozen_importlib_external"].MAGIC_NUMBER

# name → (source path, is package, source mtime in s, source size, marshalled code)
_entries: dict[str, tuple[str, bool, int, int, bytes]] = {}
_missed = False


def _ours(name: str) -> bool:
    return name == _PACKAGE or name.startswith(_PACKAGE + ".")


def _valid(entry: tuple[str, bool, int, int, bytes]) -> bool:
    """The source is unchanged since the code was compiled (importlib's timestamp check)."""
    try:
        st = os.stat(entry[0])
    except OSError:
        return False
    return int(st.st_mtime) == entry[2] and st.st_size & 0xFFFFFFFF == entry[3]


class _Finder:
    """A meta-path finder and loader serving modules from `_entries`."""

    @classmethod
    def find_spec(cls, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        global _missed
        entry = _entries.get(name)
        if entry is None or not _valid(entry):
            if _ours(name):
                _missed = True
            return None
        module_spec = sys.modules["_frozen_importlib"].ModuleSpec
        spec = module_spec(name, cls, origin=entry[0], is_package=entry[1])
        if entry[1]:
            spec.submodule_search_locations = [os.path.dirname(entry[0])]
        spec.has_location = True  # __file__ = origin
        return spec

    @staticmethod
    def create_module(spec: ModuleSpec) -> None:
        return None  # the default module object

    @staticmethod
    def exec_module(module: ModuleType) -> None:
        exec(marshal.loads(_entries[module.__name__][4]), module.__dict__)


def install() -> None:
    """Load the cache file (if any, and of this interpreter) and serve modules from it."""
    try:
        with open(_CACHE, "rb") as f:
            magic, entries = marshal.loads(f.read())
        if magic == _MAGIC:
            _entries.update(entries)
    except (OSError, ValueError, EOFError, TypeError):
        pass  # no cache yet, or an unreadable one: the first save() replaces it
    sys.meta_path.insert(0, _Finder)


def save() -> None:
    """After a miss, rewrite the cache with every jockerd module loaded and the valid entries."""
    if not _missed:
        return
    try:
        entries = {name: entry for name, entry in _entries.items() if _valid(entry)}
        for name, module in list(sys.modules.items()):
            if _ours(name) and name not in entries:
                entry = _entry_from_pyc(module)
                if entry is not None:
                    entries[name] = entry
        tmp = f"{_CACHE}.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(marshal.dumps((_MAGIC, entries)))
        os.replace(tmp, _CACHE)
    except (OSError, ValueError):
        pass


def _entry_from_pyc(module: ModuleType) -> tuple[str, bool, int, int, bytes] | None:
    """The cache entry of a module imported the regular way: its timestamp .pyc (16-byte
    header: magic, flags, source mtime, source size; then the marshalled code), if it matches
    the source as it is now."""
    spec = getattr(module, "__spec__", None)
    source, cached = getattr(spec, "origin", None), getattr(spec, "cached", None)
    if not source or not cached or not source.endswith(".py"):
        return None
    try:
        with open(cached, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != _MAGIC or data[4:8] != bytes(4):  # another interpreter, or a hash-based pyc
        return None
    entry = (
        source,
        spec.submodule_search_locations is not None,
        int.from_bytes(data[8:12], "little"),
        int.from_bytes(data[12:16], "little"),
        data[16:],
    )
    return entry if _valid(entry) else None
