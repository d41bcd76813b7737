"""Where each distribution and top-level module lives in MAIN and in the venv, and what
shadows what."""

from __future__ import annotations

import os

from .models import Distribution, Inventory, Locations, Placement, Shadowing, is_inside

MAIN, VENV = "main", "venv"


def _status(in_main: bool, in_venv: bool, main_version: str | None,
            venv_version: str | None) -> str:
    if in_main and not in_venv:
        return "main-only"
    if in_venv and not in_main:
        return "venv-only"
    return "both-same" if main_version == venv_version else "both-different"


def _dist_paths(inventory: Inventory, name: str, own_only: bool) -> tuple[str, ...]:
    """Every copy of ``name`` on the path, in import order (a second one is shadowed)."""
    paths = []
    for dist in inventory.distributions:
        if dist.name != name or not dist.dist_info:  # (a zipped one has no folder)
            continue
        if own_only and not is_inside(dist.location, inventory.prefix):
            continue
        paths.append(dist.dist_info)
        if dist.editable and dist.source_path:
            paths.append(dist.source_path)
    return tuple(paths)


def _module_paths(inventory: Inventory, own_only: bool) -> dict[str, list[str]]:
    """Top-level module -> its files/folders on sys.path, in import order, stdlib left out."""
    paths: dict[str, list[str]] = {}
    for entry in inventory.sys_path:
        if inventory.is_stdlib_dir(entry) or (own_only and not is_inside(entry, inventory.prefix)):
            continue
        for module, (_kind, file_name) in inventory.modules.get(entry, {}).items():
            if module in inventory.stdlib_modules:
                continue
            paths.setdefault(module, []).append(os.path.join(entry, file_name))
    return paths


def _version_of(module: str, providers: dict[str, list[Distribution]]) -> str | None:
    dists = providers.get(module)
    return dists[0].version if dists else None


def find_shadowing(inventory: Inventory, interpreter: str) -> list[Shadowing]:
    """Modules importable from two or more sys.path entries; only the first one is imported.

    Namespace-package portions are meant to be spread over several entries, so
    a module counts only if at least one of its copies is a regular module or
    package.
    """
    places: dict[str, list[tuple[str, str]]] = {}
    for entry in inventory.sys_path:
        for module, (kind, _file) in inventory.modules.get(entry, {}).items():
            places.setdefault(module, []).append((entry, kind))
    found = []
    for module, where in sorted(places.items()):
        if len(where) > 1 and any(kind != "namespace" for _, kind in where):
            found.append(Shadowing(interpreter, module, tuple(e for e, _ in where),
                                   tuple(k for _, k in where)))
    return found


def locate(main: Inventory, venv: Inventory) -> Locations:
    """Placement of every distribution and module in MAIN and the venv, plus shadowing.

    The venv side counts only what is installed inside the venv: packages a
    ``--system-site-packages`` venv borrows from the base interpreter would not
    exist in a fresh CI venv.
    """
    main_dists, venv_dists = main.active(), venv.own()
    placements = []
    for name in sorted(set(main_dists) | set(venv_dists)):
        main_version = main_dists[name].version if name in main_dists else None
        venv_version = venv_dists[name].version if name in venv_dists else None
        placements.append(Placement(
            kind="distribution", name=name,
            status=_status(name in main_dists, name in venv_dists, main_version, venv_version),
            main_paths=_dist_paths(main, name, own_only=False),
            venv_paths=_dist_paths(venv, name, own_only=True),
            main_version=main_version, venv_version=venv_version))
    main_modules, venv_modules = _module_paths(main, False), _module_paths(venv, True)
    main_providers, venv_providers = main.module_providers(), venv.module_providers()
    for module in sorted(set(main_modules) | set(venv_modules)):
        main_version = _version_of(module, main_providers) if module in main_modules else None
        venv_version = _version_of(module, venv_providers) if module in venv_modules else None
        placements.append(Placement(
            kind="module", name=module,
            status=_status(module in main_modules, module in venv_modules,
                           main_version, venv_version),
            main_paths=tuple(main_modules.get(module, ())),
            venv_paths=tuple(venv_modules.get(module, ())),
            main_version=main_version, venv_version=venv_version))
    shadowing = [*find_shadowing(main, MAIN), *find_shadowing(venv, VENV)]
    return Locations(tuple(placements), tuple(shadowing))
