"""The audit's data: plain dataclasses that round-trip through JSON.

Discovery modules build these, render modules read them; nothing here runs a
subprocess or prints.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any


def from_dict(kind: Any, data: Any) -> Any:
    """A dataclass read back from ``to_json``'s data, guided by the field types: lists
    become tuples, nested dicts dataclasses. Only fields that need it are decoded."""
    if data is None:
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind):
        typed = _typed_fields(kind)
        return kind(**{name: from_dict(typed[name], value) if name in typed else value
                       for name, value in data.items()})
    if origin in (typing.Union, types.UnionType):  # ``X | None``: data is not None here
        return from_dict(next(a for a in args if a is not type(None)), data)
    if origin is dict:  # its values need decoding
        return {key: from_dict(args[1], value) for key, value in data.items()}
    if not args or not _needs_decoding(args[0]):
        return tuple(data)
    return tuple(from_dict(args[0], item) for item in data)


# Both are pure functions of the classes' code, cached: evaluating the annotations for
# every distribution made reading an inventory ~6x slower (2.1 against 0.37 ms).
@functools.cache
def _typed_fields(kind: type) -> dict:
    """A dataclass's fields whose JSON needs decoding, with their types."""
    return {name: hint for name, hint in typing.get_type_hints(kind).items()
            if _needs_decoding(hint)}


@functools.cache
def _needs_decoding(kind: Any) -> bool:
    """Whether JSON data of this type differs from its value: tuples and dataclasses in it."""
    if dataclasses.is_dataclass(kind) or kind is tuple or typing.get_origin(kind) is tuple:
        return True
    return typing.get_origin(kind) in (typing.Union, types.UnionType, dict) and any(
        _needs_decoding(arg) for arg in typing.get_args(kind))


def _fields(value: Any) -> dict:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.__dict__  # these dataclasses hold their fields and nothing else
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> str:
    """``value`` (dataclasses, nested too) as compact JSON with sorted keys.

    No indent on purpose: ``json`` falls back to its pure-Python encoder for
    indented output, several times slower on an inventory.
    """
    return json.dumps(value, default=_fields, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Distribution:
    """One installed distribution as its interpreter sees it."""

    name: str  # PEP 503 canonical
    display_name: str
    version: str
    location: str | None  # the sys.path directory holding the dist-info folder
    dist_info: str | None
    editable: bool
    source_path: str | None  # PEP 610 direct_url.json "file://" url, as a path
    direct_url: dict | None
    installer: str | None
    top_level: tuple[str, ...]
    requires: tuple[str, ...] = ()
    egg_link: str | None = None  # `setup.py develop`: the .egg-link file that installs it


@dataclass(frozen=True)
class Inventory:
    """What one interpreter can import, and from where."""

    python: str  # the interpreter path that was asked for
    executable: str
    version: str
    implementation: str
    prefix: str
    base_prefix: str
    sys_path: tuple[str, ...]
    site_dirs: tuple[str, ...]
    user_site: str | None
    user_site_enabled: bool
    stdlib_modules: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    # sys.path directory ->
    #     {top-level module name -> [package|module|extension|namespace, file name]}
    modules: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    sys_version: str = ""  # the whole sys.version: build date and compiler too
    marker_environment: dict = field(default_factory=dict)  # PEP 508 variables (os_name...)

    @property
    def python_version(self) -> str:
        """``major.minor``, the form Pipfile's ``python_version`` uses."""
        return ".".join(self.version.split(".")[:2])

    def active(self) -> dict[str, Distribution]:
        """Canonical name -> the distribution an import would actually use (first on sys.path)."""
        found: dict[str, Distribution] = {}
        for dist in self.distributions:
            found.setdefault(dist.name, dist)
        return found

    def own(self) -> dict[str, Distribution]:
        """Active distributions installed inside this environment's own prefix: not those
        a ``--system-site-packages`` venv sees in its base, which a fresh CI venv lacks."""
        return {name: dist for name, dist in self.active().items()
                if (dist.location and is_inside(dist.location, self.prefix))
                or (dist.egg_link and is_inside(dist.egg_link, self.prefix))}

    def ci_copy(self, declared=()) -> dict[str, Distribution]:
        """What CI's fresh copy of this venv holds: ``own()``, plus the ``declared``
        distributions a ``--system-site-packages`` venv sees only through its base."""
        active = self.active()
        return {**{name: active[name] for name in declared if name in active}, **self.own()}

    def is_stdlib_dir(self, entry: str) -> bool:
        """The standard library's own folders (lib/pythonX.Y, lib-dynload, the zip)."""
        if entry in self.site_dirs or entry == self.user_site:
            return False
        if "site-packages" in entry or "dist-packages" in entry:
            return False
        return is_inside(entry, self.base_prefix)

    def module_providers(self, own_only: bool = False) -> dict[str, list[Distribution]]:
        """Top-level import name -> the active distributions (or only ``own()``) that ship it."""
        providers: dict[str, list[Distribution]] = {}
        for dist in (self.own() if own_only else self.active()).values():
            for module in dist.top_level:
                providers.setdefault(module, []).append(dist)
        return providers


def is_inside(path: str, directory: str) -> bool:
    path, directory = path.rstrip("/"), directory.rstrip("/")
    return path == directory or path.startswith(directory + "/")


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str | None  # "==1.2.3" as pipenv writes it, or None for path/VCS entries
    markers: str | None
    hashes: tuple[str, ...]
    extra: dict  # everything else pipenv recorded (path, editable, index, ...)


@dataclass(frozen=True)
class Pipfile:
    path: str
    # category -> canonical name -> the spec as written ("*", ">=1", {version=..., extras=[...]})
    categories: dict[str, dict[str, Any]]
    requires: dict[str, str]
    scripts: dict[str, str]
    sources: tuple[dict, ...]
    hash: str | None  # sha256 as pipenv computes it (Pipfile.lock records it); None: not computed

    def declared(self) -> dict[str, tuple[str, ...]]:
        """Canonical package name -> the categories that declare it."""
        found: dict[str, list[str]] = {}
        for category, packages in self.categories.items():
            for name in packages:
                found.setdefault(name, []).append(category)
        return {name: tuple(categories) for name, categories in found.items()}


@dataclass(frozen=True)
class Lock:
    path: str
    recorded_pipfile_hash: str | None
    matches_pipfile: bool
    # "default", "develop" or a custom category -> canonical name -> pin
    categories: dict[str, dict[str, LockedPackage]]

    def locked_names(self) -> set[str]:
        return {name for pins in self.categories.values() for name in pins}


@dataclass(frozen=True)
class PipenvProject:
    """ScanPipenv's result: the project's Pipfile, its lock and its venv."""

    project_dir: str
    venv: str
    system_site_packages: bool
    inventory: Inventory
    pipfile: Pipfile
    lock: Lock | None


@dataclass(frozen=True)
class Placement:
    """Where one distribution or top-level module lives in MAIN and in the venv."""

    kind: str  # "distribution" | "module"
    name: str
    status: str  # main-only | venv-only | both-same | both-different
    main_paths: tuple[str, ...]
    venv_paths: tuple[str, ...]
    main_version: str | None = None
    venv_version: str | None = None


@dataclass(frozen=True)
class Shadowing:
    """One module importable from two or more places on one sys.path."""

    interpreter: str  # "main" | "venv"
    module: str
    places: tuple[str, ...]  # sys.path entries, in import order; the first one wins
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Locations:
    placements: tuple[Placement, ...]
    shadowing: tuple[Shadowing, ...]


@dataclass(frozen=True)
class Edge:
    name: str
    required: str  # the specifier, "Any" when unconstrained
    installed: str | None  # None when the requirement is missing


@dataclass(frozen=True)
class TreeNode:
    name: str
    display_name: str
    version: str
    dependencies: tuple[Edge, ...]
    declared_in: tuple[str, ...]  # Pipfile categories declaring it; empty when transitive


@dataclass(frozen=True)
class Conflict:
    package: str
    dependency: str
    required: str
    installed: str | None  # None: missing altogether


@dataclass(frozen=True)
class DependencyTree:
    nodes: tuple[TreeNode, ...]
    roots: tuple[str, ...]  # nothing in the venv depends on them
    declared_roots: tuple[str, ...]  # roots the Pipfile declares
    undeclared_roots: tuple[str, ...]  # roots nobody declared: installed by hand?
    summary: dict  # pipdeptree --summary, as its JSON
    conflicts: tuple[Conflict, ...]
    cycles: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ImportSite:
    module: str  # top-level name
    file: str  # relative to the project directory
    line: int
    optional: bool  # inside ``try: ... except ImportError``
    dotted: str = ""  # the longest module path it may name (``a.b.c``)
    guards: tuple = ()  # (condition source, holds) of each enclosing ``if``
    # Where the project has this name, when the importing file (or, under pytest, a
    # conftest.py above it) changes sys.path.
    local: str = ""


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis."""

    category: str
    name: str  # module or distribution
    detail: str  # one sentence a person can act on
    distribution: str | None = None
    main_version: str | None = None
    venv_version: str | None = None
    where: tuple[str, ...] = ()  # file:line of the imports, or paths


@dataclass(frozen=True)
class Diagnosis:
    project_dir: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]

    def of(self, category: str) -> list[Finding]:
        return [f for f in self.findings if f.category == category]


# Diagnosis categories, in the order the summary prints them.
WILL_BREAK_ON_CI = "will break on CI"
DECLARED_NOT_INSTALLED = "declared but not installed in the venv"
INSTALLED_NOT_LOCKED = "installed in the venv but not locked"
VERSION_DRIFT = "version drift between MAIN and the venv"
OPTIONAL_MAIN_ONLY = "optional import available only in MAIN"
UNRESOLVED_IMPORT = "imported but installed nowhere"
CATEGORIES = (WILL_BREAK_ON_CI, DECLARED_NOT_INSTALLED, INSTALLED_NOT_LOCKED, VERSION_DRIFT,
              OPTIONAL_MAIN_ONLY, UNRESOLVED_IMPORT)
