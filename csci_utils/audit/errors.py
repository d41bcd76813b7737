"""The audit's one exception type."""


class AuditError(Exception):
    """A problem the user can fix; the message names the file or parameter and says what to do.

    The CLI prints it as one line on stderr and exits non-zero, without a
    traceback.
    """
