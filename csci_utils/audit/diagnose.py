"""The headline: what works at home (MAIN) but will break on CI (a fresh Pipenv venv)."""

from __future__ import annotations

import os

from .models import (
    DECLARED_NOT_INSTALLED,
    INSTALLED_NOT_LOCKED,
    OPTIONAL_MAIN_ONLY,
    UNRESOLVED_IMPORT,
    VERSION_DRIFT,
    WILL_BREAK_ON_CI,
    Diagnosis,
    Finding,
    ImportSite,
    Inventory,
    PipenvProject,
    is_inside,
)
from .tree import BOOTSTRAP_DISTRIBUTIONS


def _group(sites: list[ImportSite]) -> dict[str, list[ImportSite]]:
    grouped: dict[str, list[ImportSite]] = {}
    for site in sites:
        grouped.setdefault(site.module, []).append(site)
    return dict(sorted(grouped.items()))


def _loose_module_place(inventory: Inventory, module: str) -> str | None:
    """Where ``module`` is importable without any distribution (e.g. a PYTHONPATH folder)."""
    for entry in inventory.sys_path:
        found = inventory.modules.get(entry, {}).get(module)
        if found and not inventory.is_stdlib_dir(entry):
            return os.path.join(entry, found[1])
    return None


def _applies_here(spec, python_version: str) -> bool:
    """False when a Pipfile entry's ``markers`` exclude this platform/Python."""
    if not isinstance(spec, dict) or "markers" not in spec:
        return True
    from packaging.markers import InvalidMarker, Marker  # 0.05 s to import; rarely needed

    try:
        return Marker(spec["markers"]).evaluate({"python_version": python_version})
    except InvalidMarker:
        return True


def _ci_provides(venv: Inventory, own_modules: set[str], module: str) -> bool:
    """Whether a fresh copy of the venv has ``module``: from its own distributions or folders."""
    if module in own_modules:
        return True
    return any(module in venv.modules.get(entry, {}) for entry in venv.sys_path
               if is_inside(entry, venv.prefix))


def _import_findings(main: Inventory, project: PipenvProject,
                     sites: list[ImportSite]) -> list[Finding]:
    venv = project.inventory
    declared = project.pipfile.declared()
    main_providers = main.module_providers()
    own_modules = {m for dist in venv.own().values() for m in dist.top_level}
    findings = []
    for module, where in _group(sites).items():
        if _ci_provides(venv, own_modules, module):
            continue
        optional = all(site.optional for site in where)
        category = OPTIONAL_MAIN_ONLY if optional else WILL_BREAK_ON_CI
        places = tuple(f"{s.file}:{s.line}" for s in where)
        providers = main_providers.get(module, [])
        loose = _loose_module_place(main, module)
        if providers:
            dist = providers[0]
            if dist.name in declared:
                continue  # reported as "declared but not installed"
            findings.append(Finding(
                category, module,
                f"`import {module}` works only because {dist.display_name} {dist.version} is "
                f"installed in MAIN ({dist.location}); add it to the Pipfile: "
                f"pipenv install {dist.name}",
                distribution=dist.name, main_version=dist.version, where=places))
        elif loose:
            findings.append(Finding(
                category, module,
                f"`import {module}` works only because MAIN finds it at {loose} "
                "(PYTHONPATH or a copied file), which CI will not have; package it and "
                "add it to the Pipfile", where=places))
        elif not optional:
            findings.append(Finding(
                UNRESOLVED_IMPORT, module,
                f"`import {module}` is installed neither in MAIN nor in the venv; "
                "add the distribution that provides it to the Pipfile", where=places))
    return findings


def diagnose(main: Inventory, project: PipenvProject, sites: list[ImportSite]) -> Diagnosis:
    """Compare MAIN, the venv, the Pipfile, its lock and the project's imports."""
    venv = project.inventory
    venv_own = venv.own()
    main_active = main.active()
    findings = _import_findings(main, project, sites)
    notes = []

    for name, categories in sorted(project.pipfile.declared().items()):
        specs = [project.pipfile.categories[c][name] for c in categories]
        if name not in venv_own and any(_applies_here(s, venv.python_version) for s in specs):
            findings.append(Finding(
                DECLARED_NOT_INSTALLED, name,
                f"{name} is declared in [{', '.join(categories)}] but not installed in the venv; "
                "run `pipenv install --dev`", distribution=name))

    lock = project.lock
    if lock is None:
        notes.append("no Pipfile.lock: run `pipenv lock` to check what is locked")
    else:
        if not lock.matches_pipfile:
            notes.append(f"{os.path.basename(lock.path)} is out of date with the Pipfile "
                         "(its hash differs): run `pipenv lock`")
        locked = lock.locked_names()
        for name, dist in sorted(venv_own.items()):
            if name not in locked and name not in BOOTSTRAP_DISTRIBUTIONS:
                findings.append(Finding(
                    INSTALLED_NOT_LOCKED, name,
                    f"{dist.display_name} {dist.version} is in the venv but not in "
                    "Pipfile.lock: CI will not install it; declare it or uninstall it",
                    distribution=name, venv_version=dist.version))

    for name in sorted(project.pipfile.declared()):
        if name in main_active and name in venv_own \
                and main_active[name].version != venv_own[name].version:
            findings.append(Finding(
                VERSION_DRIFT, name,
                f"{name} is {main_active[name].version} in MAIN but {venv_own[name].version} "
                "in the venv: what you try at home is not what CI runs",
                distribution=name, main_version=main_active[name].version,
                venv_version=venv_own[name].version))

    if project.system_site_packages:
        notes.append("the venv was created with --system-site-packages: MAIN's packages are "
                     "importable there but not on CI")
    return Diagnosis(project.project_dir, tuple(findings), tuple(notes))
