"""The one exception type of ``csci_utils.luigi``."""

from __future__ import annotations


class TransferError(Exception):
    """A remote root, a remote file or a copy went wrong.

    The message is one line that names the URL (never a credential) and says
    what to do, so a command line can print it as it is.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
