"""One line out of an error message or a program's output, for one-line error reports."""

from __future__ import annotations


def _lines(value: object) -> list[str]:
    return [line.strip() for line in str(value).splitlines() if line.strip()]


def first_line(value: object, default: str | None = None) -> str:
    """The first non-blank line of ``value`` (an exception or text).

    Without one: ``default``, else the exception's type name, else ``""``.
    """
    lines = _lines(value)
    if lines:
        return lines[0]
    if default is not None:
        return default
    return type(value).__name__ if isinstance(value, BaseException) else ""


def last_line(value: object, default: str = "") -> str:
    """The last non-blank line of ``value``: where a traceback names its exception."""
    lines = _lines(value)
    return lines[-1] if lines else default
