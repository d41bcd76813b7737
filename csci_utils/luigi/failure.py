"""The one-line failure policy: our own errors are shown as their message, not a traceback."""

from __future__ import annotations


class OneLineFailure:
    """Mixin for luigi tasks: an expected error is reported as its one-line message.

    The scheduler, the execution summary, luigid's page and ``explain_failures``
    show what ``on_failure`` returns; anything not in ``EXPECTED_ERRORS`` keeps
    luigi's traceback. Put the mixin before ``luigi.Task`` in the bases.
    """

    EXPECTED_ERRORS: tuple[type[BaseException], ...] = ()

    def expected_errors(self) -> tuple[type[BaseException], ...]:
        """``EXPECTED_ERRORS``; override to import an error class only when a task fails."""
        return self.EXPECTED_ERRORS

    def on_failure(self, exception: BaseException) -> str:
        if isinstance(exception, self.expected_errors()):
            return str(exception)
        return super().on_failure(exception)
