"""Runs INSIDE the interpreter being inspected and prints one JSON document.

This file is executed as ``python -c <its source>`` by
:mod:`csci_utils.audit.interpreter`, so it must stay standard-library only and
valid on every Python that pipenv projects still pin (3.7+).
Nothing here imports csci_utils.

No ``-I`` on purpose: isolated mode hides the user site and PYTHONPATH, which
are exactly the "installed at home" places the audit is looking for.

Distributions are found by listing each sys.path folder for ``*.dist-info`` /
``*.egg-info``, as importlib.metadata does, but without importing it: its
imports (email, zipfile, csv...) cost more than the whole scan. Zip files on
sys.path are the exception and go through importlib.metadata.
"""

import sys

# ``python -c`` puts the working directory first on sys.path (``-P`` exists only from
# 3.11): it goes before any import, so a project's json.py never runs in the probe
# (os, site and sys were loaded at interpreter start, before it).
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]

import json  # noqa: E402 - after the working directory left sys.path, on purpose
import os  # noqa: E402
import re  # noqa: E402
import site  # noqa: E402

EXTENSION_SUFFIXES = (".so", ".pyd")
NOT_IMPORTABLE_DIRS = {"__pycache__", "bin", "include", "share"}
METADATA_SUFFIXES = (".dist-info", ".egg-info")
# The first part of a path in RECORD, whether a "/" follows it, and then every
# following line under the same folder, swallowed in one match: RECORDs of big
# wheels (torch, nvidia-*) run to tens of thousands of lines.
RECORD_HEAD = re.compile(r'^"?([^/,"\r\n]+)(/?)[^\n]*(?:\n"?\1/[^\n]*)*', re.M)


def canonical_name(name):
    # PEP 503, the same rule as packaging.utils.canonicalize_name.
    return re.sub(r"[-_.]+", "-", name).lower()


def module_name_of(entry_name, is_dir):
    """The top-level import name a directory entry provides, or None."""
    if is_dir:
        name = entry_name
    elif entry_name.endswith(".py"):
        name = entry_name[:-3]
    elif entry_name.endswith(EXTENSION_SUFFIXES):
        name = entry_name.split(".", 1)[0]
    else:
        return None
    if not name.isidentifier() or name in NOT_IMPORTABLE_DIRS:
        return None
    return name


def list_dir(directory):
    """(name, is_dir) for each entry; [] when it cannot be read."""
    try:
        with os.scandir(directory) as entries:
            found = []
            for entry in entries:
                try:
                    found.append((entry.name, entry.is_dir()))
                except OSError:
                    continue
            return found
    except OSError:
        return []


def importable_modules(directory, entries):
    """{module name: [kind, file name]}: the top-level modules one sys.path directory provides."""
    found = {}
    for entry_name, is_dir in entries:
        name = module_name_of(entry_name, is_dir)
        if name is None:
            continue
        if is_dir:
            path = os.path.join(directory, entry_name)
            if os.path.exists(os.path.join(path, "__init__.py")):
                kind = "package"
            elif any(n.endswith(".py") for n, _ in list_dir(path)):
                kind = "namespace"
            else:
                continue  # a data directory, not something you import
        else:
            kind = "module" if entry_name.endswith(".py") else "extension"
        # A package beats a same-named module in one directory, as in importlib.
        if found.get(name, [None])[0] != "package":
            found[name] = [kind, entry_name]
    return found


class FolderDistribution:
    """A ``*.dist-info`` / ``*.egg-info`` folder (or a single-file ``*.egg-info``)."""

    def __init__(self, path, is_dir):
        self.path = path
        self.is_dir = is_dir

    def read_text(self, name):
        if self.is_dir:
            file_name = os.path.join(self.path, name)
        elif name == "PKG-INFO":  # old setuptools wrote PKG-INFO itself as NAME.egg-info
            file_name = self.path
        else:
            return None
        try:
            with open(file_name, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None


class ZippedDistribution:
    """An importlib.metadata distribution inside a zip file on sys.path."""

    def __init__(self, dist):
        self.dist = dist
        self.path = None

    def read_text(self, name):
        try:
            return self.dist.read_text(name)
        except Exception:
            return None


def distributions(path, listings):
    """Every distribution on ``path``, in import order (a second copy of a name is shadowed)."""
    for entry in path:
        if entry in listings:
            for name, is_dir in sorted(listings[entry]):
                if name.lower().endswith(METADATA_SUFFIXES):
                    yield FolderDistribution(os.path.join(entry, name), is_dir)
        elif os.path.isfile(entry):
            try:
                from importlib import metadata
            except ImportError:  # Python < 3.8
                continue
            for dist in metadata.distributions(path=[entry]):
                yield ZippedDistribution(dist)


def editable_finder_names(location, entries):
    """Top-level names mapped by a setuptools PEP 660 editable finder, if any."""
    names = []
    for entry in entries:
        if entry.startswith("__editable___") and entry.endswith("_finder.py"):
            try:
                with open(os.path.join(location, entry)) as handle:
                    text = handle.read()
            except OSError:
                continue
            match = re.search(r"^MAPPING\s*(?::[^=]*)?=\s*(\{.*?\})\s*$", text, re.M | re.S)
            if match:
                names.extend(re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'\s*:", match.group(1)))
    return names


def namespace_portions(dist, location, names):
    """Dotted names under the namespace packages among ``names`` (``google.protobuf``).

    A top-level folder without ``__init__.py`` is shared by many distributions
    (google, zope): which one provides ``google.protobuf`` is the next level down,
    read from RECORD (only for such folders: a stat each, otherwise).
    """
    found = []
    record = None
    pending = [name for name in names if "." not in name]
    while pending:
        name = pending.pop()
        folder = os.path.join(location, *name.split("."))
        if not os.path.isdir(folder) or os.path.exists(os.path.join(folder, "__init__.py")):
            continue
        if record is None:
            record = dist.read_text("RECORD") or ""
        prefix = re.escape(name.replace(".", "/") + "/")
        for child, slash in set(re.findall(r'^"?' + prefix + r'([^/,"\r\n]+)(/?)', record, re.M)):
            module = module_name_of(child, bool(slash))
            if module:
                found.append(name + "." + module)
                if slash:
                    pending.append(name + "." + module)
    return found


def top_level_names(dist, location):
    """top_level.txt, else the first parts of RECORD's paths (and a PEP 660 editable
    finder's names); then the namespace portions among them."""
    text = dist.read_text("top_level.txt")
    if text:
        names = {line.strip() for line in text.splitlines() if line.strip()}
    else:
        entries = {}  # the first parts of RECORD's paths: {name: is_dir}
        for head, slash in set(RECORD_HEAD.findall(dist.read_text("RECORD") or "")):
            entries[head] = entries.get(head, False) or bool(slash)
        names = {module_name_of(head, is_dir) for head, is_dir in entries.items()
                 if head != ".." and not head.startswith("__editable__")
                 and not head.endswith((".dist-info", ".data", ".egg-info", ".pth"))}
        names.discard(None)
        if location:
            names.update(editable_finder_names(location, entries))
    names = sorted(names)
    if location:
        names += sorted(set(namespace_portions(dist, location, names)))
    return names


def direct_url_of(dist):
    text = dist.read_text("direct_url.json")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def file_url_to_path(url):
    if not url or not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse  # only for direct_url.json's file:// urls

    return unquote(urlparse(url).path)


def read_headers(dist):
    """Name, Version and Requires-Dist from METADATA, without the email parser (slow)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = version = None
    requires = []
    for line in text.splitlines():
        if not line:
            break  # the headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if not sep or line[0] in " \t":
            continue
        value = value.strip()
        if key == "Name":
            name = value
        elif key == "Version":
            version = value
        elif key == "Requires-Dist":
            requires.append(value)
    if not requires and dist.path and dist.path.endswith(".egg-info"):
        requires = egg_info_requires(dist.read_text("requires.txt") or "")
    return {"Name": name, "Version": version, "Requires-Dist": requires}


def egg_info_requires(text):
    """An egg-info's requires.txt as Requires-Dist lines: ``[extra]`` and ``[:marker]``
    sections become markers."""
    requires, marker = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, condition = line[1:-1].partition(":")
            parts = ([f"extra == {extra!r}"] if extra else []) + (
                [f"({condition})"] if condition else [])
            marker = " and ".join(parts) or None
            continue
        requires.append(line + ("; " + marker if marker else ""))
    return requires


def egg_links(path, listings):
    """{project folder: the .egg-link file} for ``setup.py develop`` installs on the path."""
    found = {}
    for entry in path:
        for name, is_dir in listings.get(entry, ()):
            if name.endswith(".egg-link") and not is_dir:
                link = os.path.join(entry, name)
                try:
                    with open(link) as handle:
                        target = handle.readline().strip()
                except OSError:
                    continue
                found.setdefault(os.path.normpath(os.path.join(entry, target)), link)
    return found


def describe(dist, meta, links):
    info_path = dist.path
    location = os.path.dirname(info_path) if info_path else None
    direct_url = direct_url_of(dist)
    editable = bool(direct_url and direct_url.get("dir_info", {}).get("editable"))
    egg_link = links.get(os.path.normpath(location)) if location else None
    installer = (dist.read_text("INSTALLER") or "").strip() or None
    return {
        "name": canonical_name(meta["Name"]),
        "display_name": meta["Name"],
        "version": meta["Version"],
        "location": location,
        "dist_info": info_path,
        "editable": editable or egg_link is not None,
        "egg_link": egg_link,
        "source_path": (file_url_to_path(direct_url.get("url")) if direct_url
                        else location if egg_link else None),
        "direct_url": direct_url,
        "installer": installer,
        "top_level": top_level_names(dist, location),
        "requires": meta["Requires-Dist"],
    }


def stdlib_module_names():
    """The standard library's top-level names, also where ``sys.stdlib_module_names`` (3.10+)
    is missing: the built-in modules plus what lib/pythonX.Y (``os``'s folder) and
    lib-dynload hold, site-packages left out."""
    names = getattr(sys, "stdlib_module_names", None)
    if names:
        return sorted(names)
    found = set(sys.builtin_module_names)
    stdlib = os.path.dirname(os.__file__)
    for directory in (stdlib, os.path.join(stdlib, "lib-dynload")):
        for entry_name, is_dir in list_dir(directory):
            name = module_name_of(entry_name, is_dir)
            if name and name not in ("site-packages", "dist-packages", "test"):
                found.add(name)
    found.discard("this")
    found.update(("__future__", "_frozen_importlib", "_frozen_importlib_external"))
    return sorted(found)


def marker_environment():
    """The PEP 508 marker variables pipenv's per-key markers use, for this interpreter."""
    uname = os.uname() if hasattr(os, "uname") else None
    return {
        "os_name": os.name,
        "sys_platform": sys.platform,
        "platform_machine": uname.machine if uname else "",
        "platform_system": uname.sysname if uname else "",
        "platform_release": uname.release if uname else "",
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(
            sys.implementation.name, sys.implementation.name),
        "python_version": "{}.{}".format(*sys.version_info[:2]),
        "python_full_version": "{}.{}.{}".format(*sys.version_info[:3]),
    }


def inventory():
    path = list(sys.path)
    listings = {entry: list_dir(entry) for entry in path if os.path.isdir(entry)}
    found_distributions = []
    links = egg_links(path, listings)
    for dist in distributions(path, listings):
        meta = read_headers(dist)
        if not meta["Name"] or not meta["Version"]:
            continue  # a broken leftover dist-info folder
        found_distributions.append(describe(dist, meta, links))
    return {
        "sys_version": sys.version,
        "sys_path": path,
        "site_dirs": site.getsitepackages() if hasattr(site, "getsitepackages") else [],
        "user_site": site.getusersitepackages() if hasattr(site, "getusersitepackages") else None,
        "executable": sys.executable,
        "version": ".".join(str(part) for part in sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "user_site_enabled": bool(site.ENABLE_USER_SITE),
        "stdlib_modules": stdlib_module_names(),
        "marker_environment": marker_environment(),
        "distributions": found_distributions,
        "modules": {entry: importable_modules(entry, entries)
                    for entry, entries in listings.items()},
    }


if __name__ == "__main__":
    # One write: json.dump would write each of its ten thousand pieces separately.
    sys.stdout.write(json.dumps(inventory()))
