"""Dependency audit: why does it work at home and break on CI?

Plain functions, no Luigi (docs/audit.md, "Code layout", says which module does
what); the Luigi tasks that wire them to files are in ``csci_utils.tasks.audit``.

Importing this package imports nothing else, on purpose: ``python -m
csci_utils.audit`` must drop the working directory (the audited project) from
sys.path before any other module is imported, or a project's ``json.py`` runs.
Import from the submodules.
"""
