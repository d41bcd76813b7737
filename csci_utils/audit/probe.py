"""Runs INSIDE the interpreter being inspected and prints one JSON document.

This file is executed as ``python -c <its source>`` by
:func:`csci_utils.audit.interpreter.inspect_interpreter`, so it must stay
standard-library only and valid on every Python that might be someone's "main"
interpreter (3.8+). Nothing here imports csci_utils.

No ``-I`` on purpose: isolated mode hides the user site and PYTHONPATH, which
are exactly the "installed at home" places the audit is looking for.
"""

import json
import os
import re
import site
import sys

try:
    from importlib import metadata
except ImportError:  # pragma: no cover - Python < 3.8 has no importlib.metadata
    metadata = None

EXTENSION_SUFFIXES = (".so", ".pyd")
NOT_IMPORTABLE_DIRS = {"__pycache__", "bin", "include", "share"}


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


def importable_modules(directory):
    """{module name: [kind, file name]} for the top-level modules one sys.path directory provides."""
    found = {}
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return found
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        name = module_name_of(entry.name, is_dir)
        if name is None:
            continue
        if is_dir:
            if os.path.exists(os.path.join(entry.path, "__init__.py")):
                kind = "package"
            elif any(n.endswith(".py") for n in _names(entry.path)):
                kind = "namespace"
            else:
                continue  # a data directory, not something you import
        else:
            kind = "module" if entry.name.endswith(".py") else "extension"
        # A package beats a same-named module in one directory, as in importlib.
        if found.get(name, [None])[0] != "package":
            found[name] = [kind, entry.name]
    return found


def _names(directory):
    try:
        return os.listdir(directory)
    except OSError:
        return []


def record_top_entries(dist):
    """First path parts of the files in RECORD, as (name, is_dir).

    Parsed by hand: ``dist.files`` builds one object per file, which costs a
    second on an environment with torch in it.
    """
    text = dist.read_text("RECORD") or ""
    entries = {}
    for line in text.splitlines():
        path = line.split(",", 1)[0].strip('"')
        head, sep, _rest = path.partition("/")
        if head:
            entries[head] = entries.get(head, False) or bool(sep)
    return entries


def editable_finder_names(dist, location, entries):
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


def top_level_names(dist, location):
    text = dist.read_text("top_level.txt")
    if text:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    names = set()
    entries = record_top_entries(dist)
    for head, is_dir in entries.items():
        if head == ".." or head.endswith((".dist-info", ".data", ".egg-info", ".pth")):
            continue
        if head.startswith("__editable__"):
            continue
        name = module_name_of(head, is_dir)
        if name:
            names.add(name)
    if location:
        names.update(editable_finder_names(dist, location, entries))
    return sorted(names)


def direct_url_of(dist):
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def file_url_to_path(url):
    if not url or not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

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
    return {"Name": name, "Version": version, "Requires-Dist": requires}


def describe(dist, meta):
    info_path = getattr(dist, "_path", None)  # PathDistribution's dist-info folder
    direct_url = direct_url_of(dist)
    editable = bool(direct_url and direct_url.get("dir_info", {}).get("editable"))
    installer = (dist.read_text("INSTALLER") or "").strip() or None
    return {
        "name": canonical_name(meta["Name"]),
        "display_name": meta["Name"],
        "version": meta["Version"],
        "location": str(info_path.parent) if info_path is not None else None,
        "dist_info": str(info_path) if info_path is not None else None,
        "editable": editable,
        "source_path": file_url_to_path(direct_url.get("url")) if direct_url else None,
        "direct_url": direct_url,
        "installer": installer,
        "top_level": top_level_names(dist, str(info_path.parent) if info_path else None),
        "requires": meta["Requires-Dist"],
    }


def main():
    # ``python -c`` puts the working directory first; it is not part of the
    # interpreter's own path, so leave it out.
    path = list(sys.path[1:] if sys.path and sys.path[0] == "" else sys.path)
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    site_dirs = site.getsitepackages() if hasattr(site, "getsitepackages") else []
    distributions = []
    if metadata is not None:
        for dist in metadata.distributions(path=path):
            meta = read_headers(dist)
            if not meta["Name"] or not meta["Version"]:
                continue  # a broken leftover dist-info folder
            distributions.append(describe(dist, meta))
    modules = {entry: importable_modules(entry) for entry in path if os.path.isdir(entry)}
    # One write: json.dump would write each of its ten thousand pieces separately.
    sys.stdout.write(json.dumps(
        {
            "executable": sys.executable,
            "version": ".".join(str(part) for part in sys.version_info[:3]),
            "implementation": sys.implementation.name,
            "prefix": sys.prefix,
            "base_prefix": getattr(sys, "base_prefix", sys.prefix),
            "sys_path": path,
            "site_dirs": site_dirs,
            "user_site": user_site,
            "user_site_enabled": bool(site.ENABLE_USER_SITE),
            "stdlib_modules": sorted(getattr(sys, "stdlib_module_names", ())),
            "distributions": distributions,
            "modules": modules,
        },
    ))


if __name__ == "__main__":
    main()
