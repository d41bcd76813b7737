"""Read a Pipfile (tomllib) and its Pipfile.lock, and hash the Pipfile the way pipenv does.

No pipenv import and no pipenv run: the hash is pipenv's algorithm
(``pipenv.utils.pipfile.Pipfile.calculate_hash``: plette's ``get_hash`` with
PEP 503 names) re-done here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from csci_utils.one_line import first_line

from .errors import AuditError
from .models import Lock, LockedPackage, Pipfile

# Top-level Pipfile tables that are not package categories (plette's PIPFILE_SECTIONS).
NON_PACKAGE_TABLES = frozenset({"source", "packages", "dev-packages", "requires", "scripts",
                                "pipfile", "pipenv"})


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pipfile(path: Path) -> dict:
    """The parsed Pipfile at ``path``, or an AuditError in one line that names it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditError(f"no Pipfile in {path.parent}: run the audit in a Pipenv project "
                         "or pass --project-dir") from None
    except UnicodeDecodeError as error:
        raise AuditError(f"malformed Pipfile {path}: not UTF-8 (byte {error.start}); "
                         "save it as UTF-8 and rerun") from None
    except OSError as error:
        raise AuditError(f"cannot read Pipfile {path}: {error.strerror}; "
                         "it must be a readable file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = str(error)
    except RecursionError:
        problem = "nested too deeply to read"
    raise AuditError(f"malformed Pipfile {path}: {problem}; fix it and rerun")


def default_sources() -> list[dict]:
    """The [[source]] list pipenv assumes when a Pipfile has none.

    pipenv (``Project.__init__``) builds it from pip's merged configuration (files and
    PIP_* variables): ``index-url`` entries (the default index first), then
    ``extra-index-url`` entries, each named after its config section; without an
    ``index-url`` the default is PIPENV_TEST_INDEX or pip's own default index.
    """
    try:
        from pip._internal.configuration import Configuration
        from pip._internal.exceptions import ConfigurationError
        from pip._internal.models.index import PyPI  # the default index, named by pip itself
    except ImportError:
        raise AuditError("the Pipfile has no [[source]] and pip is not installed to say which "
                         "index pipenv would default to; add a [[source]] table") from None
    configuration = Configuration(isolated=False, load_only=None)
    try:
        configuration.load()
    except ConfigurationError as error:
        raise AuditError(f"cannot read pip's configuration: {error}") from None
    settings = dict(configuration.items())
    indexes, extras = [], []
    for key, value in settings.items():
        section, _, option = key.partition(".")
        if option not in ("index-url", "extra-index-url"):
            continue
        trusted = settings.get(f"{section}.trusted-host", "").split()
        urls = [value] if option == "index-url" else value.split()
        for number, url in enumerate(urls):
            source = {"url": url, "verify_ssl": "https://" in url and not any(
                host in url for host in trusted)}
            if option == "index-url":
                indexes.append({**source, "name": f"pip_conf_index_{section}"})
            else:
                suffix = f"_{number}" if len(urls) > 1 else ""
                extras.append({**source, "name": f"pip_conf_extra_index_{section}{suffix}"})
    if indexes:
        default = next((i for i in indexes if _is_default_index(i["url"], PyPI)), indexes[0])
        indexes.remove(default)
    elif os.environ.get("PIPENV_TEST_INDEX"):
        default = {"url": os.environ["PIPENV_TEST_INDEX"], "verify_ssl": True, "name": "custom"}
    else:
        default = {"url": PyPI.simple_url, "verify_ssl": True, "name": "pypi"}
    return [default, *indexes, *extras]


def _is_default_index(url: str, pypi) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and parsed.netloc == pypi.netloc \
        and parsed.path.rstrip("/") == "/simple"


def pip_configuration_files() -> list[Path]:
    """The files pip reads its configuration from (pip's ``get_configuration_files``, redone)."""
    if os.environ.get("PIP_CONFIG_FILE"):
        return [Path(os.environ["PIP_CONFIG_FILE"])]
    config_dirs = (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [*(Path(folder) / "pip" / "pip.conf" for folder in config_dirs),
            Path("/etc/pip.conf"), Path.home() / ".pip" / "pip.conf",
            config_home / "pip" / "pip.conf", Path(sys.prefix) / "pip.conf"]


def pip_configuration_stamp() -> str:
    """A hash of pip's configuration (its files and PIP_* variables), whose indexes a
    Pipfile without [[source]] is hashed with (``default_sources``)."""
    digest = hashlib.sha256()
    for name, value in sorted(os.environ.items()):
        if name.startswith(("PIP_", "PIPENV_TEST_INDEX")):
            digest.update(f"{name}={value}\0".encode())
    for path in pip_configuration_files():
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            continue
    return digest.hexdigest()[:16]


def pipfile_hash(data: dict) -> str:
    """sha256 of a parsed Pipfile, equal to pipenv's ``_meta.hash.sha256`` in Pipfile.lock."""
    def canonical_keys(section: dict) -> dict:
        return {canonical_name(name): spec for name, spec in section.items()}

    hashed = {
        "_meta": {"sources": data["source"] if "source" in data else default_sources(),
                  "requires": data.get("requires", {})},
        "default": canonical_keys(data.get("packages", {})),
        "develop": canonical_keys(data.get("dev-packages", {})),
    }
    for category, values in data.items():
        if category in NON_PACKAGE_TABLES or category in ("default", "develop"):
            continue
        hashed[category] = canonical_keys(values)
    content = json.dumps(hashed, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


# pipenv's per-key markers: `pkg = {version = "*", sys_platform = "== 'linux'"}`.
PER_KEY_MARKERS = ("os_name", "sys_platform", "platform_machine", "platform_python_implementation",
                   "platform_release", "platform_system", "platform_version", "python_version",
                   "python_full_version", "implementation_name", "implementation_version")


def declared_name(key: str) -> str:
    """The canonical distribution name of a Pipfile key (``"pkg[extra]"`` is ``pkg``)."""
    return canonical_name(key.split("[", 1)[0].strip())


def entry_marker(spec: Any) -> str | None:
    """The PEP 508 marker of a Pipfile entry: ``markers`` and the per-key ones, and-ed."""
    if not isinstance(spec, dict):
        return None
    parts = [f"({spec['markers']})"] if spec.get("markers") else []
    parts += [f"{key} {spec[key]}" for key in PER_KEY_MARKERS if key in spec]
    return " and ".join(parts) or None


def check_entry(path: Path, category: str, key: str, spec: Any) -> None:
    """Raise an AuditError naming the entry where pipenv would reject it."""
    from packaging.markers import InvalidMarker, Marker  # 0.05 s; only when reading a Pipfile
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    where = f"{path} [{category}] {key}"
    try:
        Requirement(key)
    except InvalidRequirement:
        raise AuditError(f"malformed Pipfile entry {where}: not a package name") from None
    if isinstance(spec, dict):
        version = spec.get("version", "*")
    elif isinstance(spec, str):
        version = spec
    else:
        raise AuditError(f"malformed Pipfile entry {where} = {spec!r}: a version must be a "
                         'string ("*", ">=1.0") or a table ({version = "*", ...})')
    if not isinstance(version, str):
        raise AuditError(f"malformed Pipfile entry {where}: version = {version!r} is not a string")
    if version.strip() not in ("", "*"):
        try:
            SpecifierSet(version)
        except InvalidSpecifier:
            raise AuditError(f"malformed Pipfile entry {where}: {version!r} is not a version "
                             'specifier (e.g. "==1.2", ">=1.0,<2")') from None
    marker = entry_marker(spec)
    if marker:
        try:
            Marker(marker)
        except InvalidMarker as error:
            raise AuditError(f"malformed Pipfile entry {where}: bad marker {marker!r} "
                             f"({first_line(error)})") from None


def read_pipfile(path: str | Path, compute_hash: bool = True) -> Pipfile:
    """Parse a Pipfile: every package category, [requires], [scripts], [[source]] and the hash.

    The hash is only compared with a Pipfile.lock; ``compute_hash=False`` skips
    it (hash None) when there is no lock, which saves loading pip's configuration.
    """
    path = Path(path)
    data = parse_pipfile(path)
    for table, value in data.items():  # pipenv reads any other key as a package category
        if table != "source" and not isinstance(value, dict):
            raise AuditError(f"malformed Pipfile {path}: [{table}] must be a table")
    sources = data.get("source", [])
    if not (isinstance(sources, list) and all(isinstance(s, dict) for s in sources)):
        # pipenv itself crashes on `[source]` (one table) with a traceback.
        raise AuditError(f"malformed Pipfile {path}: sources must be [[source]] tables, "
                         "one per index")
    tables = {"packages": data.get("packages", {}), "dev-packages": data.get("dev-packages", {})}
    tables.update((category, values) for category, values in data.items()
                  if category not in NON_PACKAGE_TABLES)
    categories: dict[str, dict[str, Any]] = {}
    for category, values in tables.items():
        for key, spec in values.items():
            check_entry(path, category, key, spec)
        categories[category] = {declared_name(key): spec for key, spec in values.items()}
    return Pipfile(
        path=str(path),
        categories=categories,
        requires={k: str(v) for k, v in data.get("requires", {}).items()},
        scripts={k: v if isinstance(v, str) else " ".join(map(str, v))
                 for k, v in data.get("scripts", {}).items()},
        sources=tuple(sources),
        hash=pipfile_hash(data) if compute_hash else None,
    )


def resolve_path_entries(pipfile: Pipfile, inventory, project_dir: Path) -> Pipfile:
    """Rename path entries (``e1839a8 = {path = "."}``) to the distribution installed from there.

    pipenv lets the key of a path entry be any alias; what CI installs is the
    distribution at that path, which the venv shows as an editable or folder install.
    """
    installed_from = {os.path.realpath(dist.source_path): dist.name
                      for dist in inventory.own().values() if dist.source_path}

    def installed_name(name: str, spec: Any) -> str:
        if isinstance(spec, dict) and isinstance(spec.get("path"), str):
            return installed_from.get(os.path.realpath(project_dir / spec["path"]), name)
        return name

    return dataclasses.replace(pipfile, categories={
        category: {installed_name(name, spec): spec for name, spec in entries.items()}
        for category, entries in pipfile.categories.items()})


def read_lock(path: str | Path, pipfile: Pipfile) -> Lock | None:
    """Parse Pipfile.lock if it exists: pins, markers, hashes, and whether it matches the
    Pipfile."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise AuditError(f"malformed Pipfile.lock {path}: {error}; "
                         "delete it and run `pipenv lock`") from None
    recorded = (data.get("_meta", {}).get("hash") or {}).get("sha256")
    categories = {}
    for category, pins in data.items():
        if category == "_meta" or not isinstance(pins, dict):
            continue
        categories[category] = {
            canonical_name(name): LockedPackage(
                name=canonical_name(name),
                version=pin.get("version"),
                markers=pin.get("markers"),
                hashes=tuple(pin.get("hashes", ())),
                extra={k: v for k, v in pin.items() if k not in ("version", "markers", "hashes")},
            )
            for name, pin in pins.items()
        }
    return Lock(path=str(path), recorded_pipfile_hash=recorded,
                matches_pipfile=recorded == pipfile.hash, categories=categories)
