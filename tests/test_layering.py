"""The allowed import graph of DESIGN.md §5.2, checked by parsing every module with `ast`.

Nothing is imported or executed: each file under jockerd/ and jocker_cli/ is parsed and every
import it contains is collected, wherever it sits (module level, inside a function, under
`if TYPE_CHECKING:`, in a try block) plus `importlib.import_module("x")` and `__import__("x")`
with a literal name. A type-only import is still a dependency of the design, so it counts.

Each package has a rule with two halves, as in the §5.2 table:
- `may`: the jockerd packages it may import (its own is always allowed); anything else in
  jockerd is a violation. `jockerd` itself (constants only, see test_leaf_modules) is allowed
  where `allow_root` is set.
- `must_not`: modules it must never import, stdlib and third-party included (prefix match:
  "aiohttp.web" covers `from aiohttp import web`).
Optionally `third_party`/`stdlib` narrow what else may be imported at all.

Rules for packages that do not exist yet (bundle, driver, shim, runtime) pass vacuously until
they do. The `store` row is not in the §5.2 table: it is inferred from §5.1 (store/ sits beside
imagestore, under services). `jockerd.__main__`, `server` and `daemon` are composition roots and
may import anything in jockerd.

Deviations from §5.2 taken on purpose are encoded in the rules with their reason (the named
leaf modules ids, store.atomic and hostfs; hostfs as the daemon's libc doorway) and recorded in
docs/conventions.md; there is no allowlist of exceptions.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCE_PACKAGES = ("jockerd", "jocker_cli")


@dataclass(frozen=True)
class Rule:
    package: str
    may: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    allow_root: bool = True
    third_party: frozenset[str] | None = None  # None: any third-party package
    stdlib: frozenset[str] | None = None  # None: any stdlib module


ENGINE = ("jockerd.bundle", "jockerd.driver", "jockerd.shim", "jockerd.runtime")
RULES = (
    Rule(
        "jockerd.models",
        may=(),
        must_not=("os", "pathlib", "subprocess", "aiohttp", "aiofiles"),
        allow_root=False,
        third_party=frozenset({"pydantic"}),
        # "stdlib typing" (§5.2), plus enum for the StrEnums of §6 and datetime for timestamps.
        stdlib=frozenset({"__future__", "typing", "collections", "enum", "datetime"}),
    ),
    Rule(
        "jockerd.api",
        may=("jockerd.models", "jockerd.errors", "jockerd.ids"),
        must_not=(
            "os",
            "pathlib",
            "subprocess",
            "ctypes",
            "shutil",
            "tempfile",
            "aiofiles",
            "jockerd.services",
            "jockerd.store",
            "jockerd.imagestore",
            *ENGINE,
        ),
        # multidict and yarl are aiohttp's own request types (request.query, request.url).
        third_party=frozenset({"aiohttp", "pydantic", "multidict", "yarl"}),
    ),
    Rule(
        "jockerd.services",
        may=(
            "jockerd.models",
            "jockerd.errors",
            "jockerd.ids",
            "jockerd.store",
            "jockerd.imagestore",
            "jockerd.bundle",
            "jockerd.driver",
            # the daemon side's libc doorway: unmounting a rootfs whose shim was killed
            "jockerd.hostfs",
            # mount(8)'s option words, for local volumes created with mount options
            "jockerd.mount_flags",
        ),
        must_not=("jockerd.api", "aiohttp.web", "jockerd.runtime", "jockerd.shim"),
    ),
    Rule(
        "jockerd.imagestore",
        # ids and store.atomic are named leaf modules (DESIGN §4 sizing guide), not layers.
        may=("jockerd.models", "jockerd.errors", "jockerd.ids", "jockerd.store.atomic", "jockerd.hostfs"),
        must_not=(
            "jockerd.services",
            "jockerd.api",
            "jockerd.bundle",
            "jockerd.driver",
            "jockerd.runtime",
            "jockerd.shim",
            "aiohttp.web",
        ),
    ),
    Rule(
        "jockerd.store",
        may=("jockerd.models", "jockerd.errors", "jockerd.ids"),
        must_not=("jockerd.api", "jockerd.services", "jockerd.imagestore", *ENGINE, "aiohttp"),
    ),
    Rule(
        "jockerd.bundle",
        # store.atomic writes config.json; hostfs lets users.py read the image's passwd/group in-root.
        may=(
            "jockerd.models",
            "jockerd.errors",
            "jockerd.store.atomic",
            "jockerd.hostfs",
            "jockerd.capabilities",
        ),
        must_not=("jockerd.services", "jockerd.driver", "jockerd.runtime", "aiohttp"),
        third_party=frozenset({"pydantic"}),
    ),
    Rule(
        "jockerd.driver",
        # config: the runtimes daemon.json and --add-runtime declare (a leaf module).
        may=("jockerd.models", "jockerd.errors", "jockerd.config"),
        must_not=("jockerd.services", "jockerd.api", "jockerd.runtime", "aiohttp.web"),
    ),
    Rule(
        "jockerd.shim",
        # §5.2 lists models and driver.oci_runtime, but they cost ~100 ms of start-up (pydantic,
        # asyncio) on every `docker run`: the shim takes the runtime's error parser from the leaf
        # driver.runtime_log instead, the libc doorway, and the runtime's `_json` wrapper; and
        # jockerd.runtime.__main__, to run this installation's jocker-runtime in a fork of itself
        # (--runtime-in-process) instead of a new interpreter per call.
        may=(
            "jockerd.driver.runtime_log",
            "jockerd.runtime.linux",
            "jockerd.runtime.fastjson",
            "jockerd.runtime.__main__",
            "jockerd.mount_flags",
        ),
        must_not=(
            "jockerd.services",
            "jockerd.api",
            "jockerd.imagestore",
            "jockerd.models",
            "jockerd.driver.oci_runtime",
            "pydantic",
            "aiohttp",
            "asyncio",
        ),
    ),
    Rule(
        "jockerd.runtime",
        # No models either: the runtime parses config.json as plain dicts (pydantic costs ~100 ms
        # of start-up on every container operation).
        may=("jockerd.capabilities", "jockerd.mount_flags"),
        must_not=(
            "aiohttp",
            "aiofiles",
            "pydantic",
            "jockerd.services",
            "jockerd.api",
            "jockerd.driver",
            "jockerd.shim",
        ),
        # Nothing third-party: libseccomp is reached through the runtime's own small binding.
        third_party=frozenset(),
    ),
    Rule("jocker_cli", may=("jockerd.models",), allow_root=False),
)
# Leaves: everything may import them, so they import nothing from jockerd themselves.
LEAF_MODULES = (
    "jockerd.mount_flags",
    "jockerd.errors",
    "jockerd.ids",
    "jockerd.config",
    "jockerd.hostfs",
    "jockerd.store.atomic",
    "jockerd.capabilities",
)
COMPOSITION_ROOTS = ("jockerd.__main__", "jockerd.server", "jockerd.daemon")
# Test-only code never becomes a dependency of what ships.
NEVER_IMPORTED = ("tests", "images", "conftest")
# House rule 6: libc is reached through a doorway: runtime/linux for the runtime, hostfs (openat2,
# syncfs) for the daemon's stores, which may not import the runtime.
LIBC_DOORWAYS = ("jockerd.runtime.linux", "jockerd.hostfs")


# -- collecting imports --------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    line: int
    names: tuple[str, ...]  # the module, and for `from m import a` also "m.a" (a may be a submodule)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str | None, level: int, current: str, is_package: bool) -> str:
    if not level:
        return module or ""
    base = current.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _literal_import(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def collect_imports(source: str, current: str, *, is_package: bool = False) -> Iterator[Import]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(node.lineno, (alias.name,))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module, node.level, current, is_package)
            yield Import(node.lineno, (base, *(f"{base}.{a.name}" for a in node.names if a.name != "*")))
        elif isinstance(node, ast.Call) and (literal := _literal_import(node)):
            yield Import(node.lineno, (literal,))


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def relpath(self) -> str:
        return self.path.relative_to(REPO).as_posix()

    def imports(self) -> list[Import]:
        return list(
            collect_imports(self.path.read_text(), self.name, is_package=self.path.name == "__init__.py")
        )


def all_modules() -> list[Module]:
    return [
        Module(module_name(path), path)
        for package in SOURCE_PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
    ]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (REPO / relative.with_suffix(".py")).is_file() or (REPO / relative / "__init__.py").is_file()


def _internal_targets(imp: Import) -> list[str]:
    """The jockerd/jocker_cli modules an import loads: "m.a" when `a` is a submodule, else "m"."""
    base = imp.names[0]
    if base.split(".")[0] not in SOURCE_PACKAGES:
        return []
    submodules = [n for n in imp.names[1:] if _is_module(n)]
    has_attributes = len(submodules) < len(imp.names) - 1 or len(imp.names) == 1
    return [*submodules, *([base] if has_attributes else [])]


def _top(name: str) -> str:
    return name.split(".")[0]


# -- checking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    relpath: str
    line: int
    module: str
    why: str

    def __str__(self) -> str:
        return f"{self.relpath}:{self.line}: imports {self.module}: {self.why}"


def check_rule(module: Module, rule: Rule, imports: list[Import] | None = None) -> list[Violation]:
    out = []
    own = rule.package
    allowed = (own, *rule.may)
    for imp in module.imports() if imports is None else imports:
        base = imp.names[0]
        if _top(base) in SOURCE_PACKAGES:
            for target in _internal_targets(imp):
                if target == "jockerd" and rule.allow_root:
                    continue
                if not any(_within(target, a) for a in allowed):
                    why = f"{own} may import only {', '.join(allowed)} from jockerd (DESIGN §5.2)"
                    out.append(Violation(module.relpath, imp.line, target, why))
        for name in imp.names:
            bad = next((p for p in rule.must_not if _within(name, p)), None)
            if bad is not None:
                out.append(
                    Violation(module.relpath, imp.line, name, f"{own} must not import {bad} (DESIGN §5.2)")
                )
                break
        if _top(base) in SOURCE_PACKAGES or not base:
            continue
        if _top(base) in sys.stdlib_module_names:
            if rule.stdlib is not None and _top(base) not in rule.stdlib:
                why = f"{own} may use only {', '.join(sorted(rule.stdlib))} from the stdlib"
                out.append(Violation(module.relpath, imp.line, base, why))
        elif rule.third_party is not None and _top(base) not in rule.third_party:
            why = f"{own} may use only {', '.join(sorted(rule.third_party))} outside the stdlib"
            out.append(Violation(module.relpath, imp.line, base, why))
    return _dedupe(out)


def _dedupe(violations: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(violations))


def rule_for(name: str) -> Rule | None:
    matches = [r for r in RULES if _within(name, r.package)]
    return max(matches, key=lambda r: len(r.package)) if matches else None


def format_violations(violations: list[Violation]) -> str:
    return "\n".join(str(v) for v in violations)


MODULES = all_modules()


# -- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.package)
def test_package_imports(rule: Rule) -> None:
    violations = [v for m in MODULES if rule_for(m.name) is rule for v in check_rule(m, rule)]
    assert not violations, "\n" + format_violations(violations)


def test_every_module_is_covered() -> None:
    """A new top-level module must get a rule (or be declared a leaf or a composition root)."""
    known = (*LEAF_MODULES, *COMPOSITION_ROOTS, "jockerd")
    uncovered = [m.relpath for m in MODULES if rule_for(m.name) is None and m.name not in known]
    assert not uncovered, f"modules without a layering rule: {uncovered}"


def test_leaf_modules() -> None:
    """jockerd/__init__.py holds constants only; errors, ids and config import nothing from jockerd."""
    root = next(m for m in MODULES if m.name == "jockerd")
    assert [i.names[0] for i in root.imports() if i.names[0] != "__future__"] == []
    violations = []
    for module in (m for m in MODULES if m.name in LEAF_MODULES):
        for imp in module.imports():
            for target in _internal_targets(imp):
                why = "a leaf module imports nothing from jockerd"
                violations.append(Violation(module.relpath, imp.line, target, why))
    assert not violations, "\n" + format_violations(violations)


def test_test_code_is_never_imported() -> None:
    violations = [
        Violation(m.relpath, imp.line, imp.names[0], "shipped code never imports test-only packages")
        for m in MODULES
        for imp in m.imports()
        if any(_within(imp.names[0], p) for p in NEVER_IMPORTED)
    ]
    violations += [
        Violation(m.relpath, imp.line, imp.names[0], "the daemon never imports the CLI")
        for m in MODULES
        if _within(m.name, "jockerd")
        for imp in m.imports()
        if _within(imp.names[0], "jocker_cli")
    ]
    assert not violations, "\n" + format_violations(violations)


def test_libc_only_through_the_doorways() -> None:
    """House rule 6: ctypes (libc) is used only in the doorway modules."""
    violations = [
        Violation(m.relpath, imp.line, "ctypes", f"libc is reached only through {LIBC_DOORWAYS}")
        for m in MODULES
        if not any(_within(m.name, doorway) for doorway in LIBC_DOORWAYS)
        for imp in m.imports()
        if _within(imp.names[0], "ctypes")
    ]
    assert not violations, "\n" + format_violations(violations)
