"""The headline: what works at home (MAIN) but will break on CI (a fresh Pipenv venv)."""

from __future__ import annotations

import os
import shlex

from .guards import TYPE_ONLY, verdict
from .models import (
    DECLARED_NOT_INSTALLED,
    INSTALLED_NOT_LOCKED,
    OPTIONAL_MAIN_ONLY,
    UNRESOLVED_IMPORT,
    VERSION_DRIFT,
    WILL_BREAK_ON_CI,
    Diagnosis,
    Distribution,
    Finding,
    ImportSite,
    Inventory,
    PipenvProject,
    is_inside,
)
from .pipfile import canonical_name, entry_marker
from .tree import BOOTSTRAP_DISTRIBUTIONS, REQUIREMENT


def _group(sites: list[ImportSite], maps=()) -> dict[str, list[ImportSite]]:
    """Sites by the module they import: the top-level name, or a namespace package's
    portion (``google.protobuf``) where some distribution provides one."""
    grouped: dict[str, list[ImportSite]] = {}
    for site in sites:
        parts = (site.dotted or site.module).split(".")
        key = next((".".join(parts[:n]) for n in range(len(parts), 1, -1)
                    if any(".".join(parts[:n]) in names for names in maps)), site.module)
        grouped.setdefault(key, []).append(site)
    return dict(sorted(grouped.items()))


def _loose_module_place(inventory: Inventory, module: str) -> str | None:
    """Where ``module`` is importable without any distribution (e.g. a PYTHONPATH folder)."""
    for entry in inventory.sys_path:
        found = inventory.modules.get(entry, {}).get(module)
        if found and not inventory.is_stdlib_dir(entry):
            return os.path.join(entry, found[1])
    return None


def marker_holds(marker: str | None, venv: Inventory) -> bool:
    """Whether a PEP 508 marker (None: no marker) holds for the venv's interpreter."""
    if marker is None:
        return True
    from packaging.markers import InvalidMarker, Marker  # 0.05 s to import; rarely needed

    environment = {**venv.marker_environment, "python_version": venv.python_version,
                   "python_full_version": venv.version}
    try:
        return Marker(marker).evaluate(environment)
    except InvalidMarker:
        return True


class Providers(dict):
    """Import name -> the distributions that ship it (``Inventory.module_providers``), and
    ``namespaces``: the names other names lie under (``google`` for ``google.protobuf``)."""

    def __init__(self, providers: dict[str, list[Distribution]]) -> None:
        super().__init__(providers)
        self.namespaces = {".".join(parts[:length]) for parts in (name.split(".") for name in self)
                           for length in range(1, len(parts))}


def provider_of(dotted: str, providers: Providers) -> list[Distribution] | None:
    """The distributions that provide the longest importable prefix of ``dotted``.

    [] when that prefix is a namespace package (``google``) whose portion the
    import needs (``google.protobuf``) nobody provides; None when nothing matches.
    """
    parts = dotted.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in providers:
            portion_needed = length < len(parts) and prefix in providers.namespaces
            return [] if portion_needed else providers[prefix]
    return None


def _ci_provides(venv: Inventory, own: Providers, site: ImportSite) -> bool:
    """Whether a fresh copy of the venv has the import: its own distributions or folders."""
    found = provider_of(site.dotted or site.module, own)
    if found is not None:
        return bool(found)
    return any(venv.modules.get(entry, {}).get(site.module, ["namespace"])[0] != "namespace"
               for entry in venv.sys_path if is_inside(entry, venv.prefix))


def _declared_closure(venv_own: dict[str, Distribution], declared) -> set[str]:
    """The declared distributions and everything they require, transitively (markers ignored)."""
    reached, pending = set(), list(declared)
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        dist = venv_own.get(name)
        for requirement in dist.requires if dist else ():
            match = REQUIREMENT.match(requirement)
            if match:
                pending.append(canonical_name(match.group(1)))
    return reached


def install_command(dist: Distribution, project_dir: str) -> str:
    """The pipenv command that declares and installs ``dist`` as CI will get it.

    A distribution installed from a local folder is no PyPI name: it gets its path entry.
    """
    if dist.source_path and (dist.egg_link or "dir_info" in (dist.direct_url or {})):
        # Relative, as pipenv writes it into the Pipfile: the checkout moves, the layout stays.
        path = os.path.relpath(dist.source_path, project_dir)
        if not path.startswith("."):
            path = f"./{path}"
        return f"pipenv install {'-e ' if dist.editable else ''}{shlex.quote(path)}"
    return f"pipenv install {dist.name}"


def _places(sites: list[ImportSite]) -> tuple[str, ...]:
    """``file:line`` of each site, each once: ``from a.b import c, d`` is one site per name."""
    return tuple(dict.fromkeys(f"{site.file}:{site.line}" for site in sites))


def _never_run_notes(skipped: list[tuple[ImportSite, tuple[str, str]]], venv: Inventory):
    notes = []
    for module, where in _group([site for site, _ in skipped]).items():
        reasons = {verdict_ for site, verdict_ in skipped if site.module == module}
        places = ", ".join(_places(where))
        platform = venv.marker_environment.get("sys_platform", "?")
        said = "; ".join(dict.fromkeys(  # each reason once: TYPE_CHECKING has many spellings
            "only for type checking" if kind == TYPE_ONLY else
            f"only where `{condition}`, false for the venv's Python {venv.version} on {platform}"
            for kind, condition in sorted(reasons)))
        notes.append(f"`import {module}` never runs in the venv ({said}) [{places}]")
    return notes


def _import_findings(main: Inventory, project: PipenvProject,
                     sites: list[ImportSite]) -> tuple[list[Finding], list[str]]:
    venv = project.inventory
    declared = project.pipfile.declared()
    main_providers = Providers(main.module_providers())
    venv_own = venv.own()
    own = Providers(venv.module_providers(own_only=True))
    lock = project.lock
    ci_installs = (lock.locked_names() if lock is not None
                   else _declared_closure(venv_own, declared))
    live, skipped = [], []
    for site in sites:
        never = verdict(site.guards, venv)
        if never:
            skipped.append((site, never))
        else:
            live.append(site)
    findings, notes = [], []
    for module, where in _group(live, (main_providers, own)).items():
        optional = all(site.optional for site in where)
        category = OPTIONAL_MAIN_ONLY if optional else WILL_BREAK_ON_CI
        missing = [site for site in where if not _ci_provides(venv, own, site)]
        places = _places(missing or where)
        # In the venv, but put there by hand: CI installs the Pipfile (or its lock) only.
        by_hand = {dist.name: dist for site in where if site not in missing
                   for dist in provider_of(site.dotted or module, own) or ()
                   if dist.name not in ci_installs and dist.name not in declared
                   and not dist.editable}
        for dist in by_hand.values():
            source = "Pipfile.lock" if lock is not None else "the Pipfile (or what it requires)"
            findings.append(Finding(
                category, module,
                f"`import {module}` works only because {dist.display_name} {dist.version} was "
                f"installed into the venv by hand; it is not in {source}, so CI will not "
                f"have it: {install_command(dist, project.project_dir)}",
                distribution=dist.name, venv_version=dist.version, where=places))
        if not missing:
            continue
        providers = provider_of(missing[0].dotted or module, main_providers) or []
        loose = _loose_module_place(main, module.split(".")[0])
        if not providers and loose:
            # A folder put on the path by an editable install (a .pth to its source).
            providers = [dist for dist in main.active().values()
                         if dist.source_path and is_inside(loose, dist.source_path)]
        if providers:
            dist = providers[0]
            if dist.name in declared:
                continue  # reported as "declared but not installed"
            findings.append(Finding(
                category, module,
                f"`import {module}` works only because {dist.display_name} "
                f"{dist.version} is installed in MAIN ({dist.location}); add it to the Pipfile: "
                f"{install_command(dist, project.project_dir)}",
                distribution=dist.name, main_version=dist.version, where=places))
        elif loose:
            findings.append(Finding(
                category, module,
                f"`import {module}` works only because MAIN finds it at {loose} "
                "(PYTHONPATH or a copied file), which CI will not have; package it and "
                "add it to the Pipfile", where=places))
        else:
            local = [site for site in missing if site.local]
            if local:
                notes.append(f"`import {module}` is the project's own {local[0].local}, "
                             "found through a sys.path change (in the importing file or a "
                             f"conftest.py above it) [{', '.join(_places(local))}]")
            places = _places([site for site in missing if not site.local])
            if places and not optional:
                findings.append(Finding(
                    UNRESOLVED_IMPORT, module,
                    f"`import {module}` is installed neither in MAIN nor in the "
                    "venv; add the distribution that provides it to the Pipfile",
                    where=places))
    return findings, notes + _never_run_notes(skipped, venv)


def diagnose(main: Inventory, project: PipenvProject, sites: list[ImportSite]) -> Diagnosis:
    """Compare MAIN, the venv, the Pipfile, its lock and the project's imports."""
    venv = project.inventory
    venv_own = venv.own()
    main_active = main.active()
    findings, notes = _import_findings(main, project, sites)

    for name, categories in sorted(project.pipfile.declared().items()):
        specs = [project.pipfile.categories[c][name] for c in categories]
        if name in venv_own or not any(marker_holds(entry_marker(s), venv) for s in specs):
            continue
        excluded = [pin.markers for pins in (project.lock.categories.values() if project.lock
                                             else ()) for pin in [pins.get(name)]
                    if pin is not None and pin.markers and not marker_holds(pin.markers, venv)]
        if excluded:
            # pipenv install will skip it here and on CI alike: no command installs it.
            findings.append(Finding(
                WILL_BREAK_ON_CI, name,
                f"{name} is declared in [{', '.join(categories)}] but Pipfile.lock's marker "
                f"`{excluded[0]}` excludes the venv's Python {venv.version} "
                f"({venv.marker_environment.get('sys_platform', '?')}): pipenv installs it "
                "neither here nor on CI; widen the package's markers or its version in the "
                "Pipfile (or pin [requires] python_version to a Python it supports), then "
                "`pipenv lock`", distribution=name))
            continue
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
        breaking = {f.distribution for f in findings if f.category == WILL_BREAK_ON_CI}
        for name, dist in sorted(venv_own.items()):
            if name not in locked and name not in BOOTSTRAP_DISTRIBUTIONS \
                    and name not in breaking:
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
