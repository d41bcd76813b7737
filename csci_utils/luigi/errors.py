"""The one exception type of ``csci_utils.luigi``."""

from __future__ import annotations

from ..urls import redact_userinfo


class TransferError(Exception):
    """A remote root, a remote file or a copy went wrong.

    The message is one line that names the URL (its userinfo redacted: never a
    credential) and says what to do, so a command line can print it as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact_userinfo(" ".join(str(message).split())))
