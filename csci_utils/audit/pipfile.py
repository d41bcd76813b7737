"""Read a Pipfile (tomllib) and its Pipfile.lock, and hash the Pipfile the way pipenv does.

No pipenv import and no pipenv run: the hash is pipenv's algorithm
(``pipenv.utils.pipfile.Pipfile.calculate_hash``: plette's ``get_hash`` with
PEP 503 names) re-done here. Like pipenv, a Pipfile without [[source]] is
hashed with the sources pipenv derives from pip's configuration.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .errors import AuditError
from .models import Lock, LockedPackage, Pipfile

# Top-level Pipfile tables that are not package categories (plette's PIPFILE_SECTIONS).
NON_PACKAGE_TABLES = frozenset({"source", "packages", "dev-packages", "requires", "scripts",
                                "pipfile", "pipenv"})
LOCK_META = "_meta"


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_pipfile(path: Path) -> None:
    """Raise the same AuditError as ``read_pipfile`` for a missing or malformed Pipfile, cheaply."""
    peek_toml(_read_pipfile_text(path), path)


@functools.lru_cache(maxsize=16)
def _parse_toml(text: str) -> tuple[dict | None, str | None]:
    # Luigi asks for a task's output (so for the Pipfile) dozens of times a
    # run; parsing the same bytes once is enough. Keyed on the text itself,
    # so an edited Pipfile is always parsed afresh.
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as error:
        return None, str(error)


def peek_toml(text: str, path: Path | None = None) -> dict:
    """The parsed Pipfile ``text``, shared with other callers: read it, never change it.

    With ``path``, a malformed file raises the AuditError; without, the
    TOMLDecodeError.
    """
    data, error = _parse_toml(text)
    if error is None:
        return data
    if path is None:
        raise tomllib.TOMLDecodeError(error)
    raise AuditError(f"malformed Pipfile {path}: {error}; fix it and rerun")


def _read_pipfile_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AuditError(f"no Pipfile at {path}: create one (pipenv install) "
                         "or pass --project-dir") from None


def read_toml(path: Path) -> dict:
    """The parsed Pipfile at ``path`` (a copy of its own), or an AuditError in one line."""
    return copy.deepcopy(peek_toml(_read_pipfile_text(path), path))


def _pip_configuration():
    """pip's merged configuration (files and PIP_* variables), as pipenv loads it."""
    try:
        from pip._internal.configuration import Configuration
        from pip._internal.exceptions import ConfigurationError
    except ImportError:
        raise AuditError("the Pipfile has no [[source]] and pip is not installed to say which "
                         "index pipenv would default to; add a [[source]] table") from None
    configuration = Configuration(isolated=False, load_only=None)
    try:
        configuration.load()
    except ConfigurationError as error:
        raise AuditError(f"cannot read pip's configuration: {error}") from None
    return configuration


def _trusted_hosts(configuration, section: str) -> list[str]:
    try:
        value = configuration.get_value(f"{section}.trusted-host")
    except Exception:  # pip raises ConfigurationError for an unset key
        return []
    return value.split() if isinstance(value, str) else list(value or ())


def default_sources() -> list[dict]:
    """Like ``_default_sources``, remembered per set of pip/pipenv environment variables."""
    steering = tuple(sorted((k, v) for k, v in os.environ.items()
                            if k.startswith(("PIP_", "PIPENV_TEST_INDEX", "VIRTUAL_ENV",
                                             "XDG_CONFIG", "HOME"))))
    return [dict(source) for source in _remembered_default_sources(steering)]


@functools.lru_cache(maxsize=8)
def _remembered_default_sources(_steering: tuple) -> tuple:
    return tuple(_default_sources())


def _default_sources() -> list[dict]:
    """The [[source]] list pipenv assumes when a Pipfile has none.

    pipenv (``Project.__init__``) builds it from pip's configuration:
    ``index-url`` entries (the default index first), then ``extra-index-url``
    entries, each named after its config section; without an ``index-url`` the
    default is PIPENV_TEST_INDEX or pip's own default index.
    """
    from pip._internal.models.index import PyPI  # the default index, named by pip itself

    configuration = _pip_configuration()
    indexes, extras = [], []
    for key, value in configuration.items():
        section, _, option = key.partition(".")
        if option not in ("index-url", "extra-index-url"):
            continue
        trusted = _trusted_hosts(configuration, section)
        urls = [value] if option == "index-url" else [u for u in value.split() if u]
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


def read_pipfile(path: str | Path, compute_hash: bool = True) -> Pipfile:
    """Parse a Pipfile: every package category, [requires], [scripts], [[source]] and the hash.

    The hash is only compared with a Pipfile.lock; ``compute_hash=False`` skips
    it (hash None) when there is no lock, which saves loading pip's configuration.
    """
    path = Path(path)
    data = read_toml(path)
    for table in ("packages", "dev-packages", "requires", "scripts"):
        if table in data and not isinstance(data[table], dict):
            raise AuditError(f"malformed Pipfile {path}: [{table}] must be a table")
    categories: dict[str, dict[str, Any]] = {
        "packages": {canonical_name(n): s for n, s in data.get("packages", {}).items()},
        "dev-packages": {canonical_name(n): s for n, s in data.get("dev-packages", {}).items()},
    }
    for category, values in data.items():
        if category not in NON_PACKAGE_TABLES and isinstance(values, dict):
            categories[category] = {canonical_name(n): s for n, s in values.items()}
    return Pipfile(
        path=str(path),
        categories=categories,
        requires={k: str(v) for k, v in data.get("requires", {}).items()},
        scripts={k: v if isinstance(v, str) else " ".join(map(str, v))
                 for k, v in data.get("scripts", {}).items()},
        sources=tuple(data.get("source", ())),
        hash=pipfile_hash(data) if compute_hash else None,
    )


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
    recorded = (data.get(LOCK_META, {}).get("hash") or {}).get("sha256")
    categories = {}
    for category, pins in data.items():
        if category == LOCK_META or not isinstance(pins, dict):
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
