"""Credentials never leave in a message: the userinfo of any URL is redacted.

``http://KEY:SECRET@host:9000/x`` is printed as ``http://***@host:9000/x``.
Every line the code prints about a URL (TransferError, the command lines'
error lines) passes through ``redact_userinfo``.
"""

from __future__ import annotations

import re

# scheme://userinfo@ ; the userinfo holds neither '/', '@' nor whitespace.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s]+@")


def redact_userinfo(text: str) -> str:
    """``text`` with the user:password part of every URL replaced by ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", str(text))
