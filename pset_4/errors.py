"""The one exception type of pset_4."""


class PipelineError(Exception):
    """A pipeline problem the user can fix.

    The message is one line: it names the image, model, folder or option at
    fault and says what to do. ``python -m pset_4`` prints it as is.
    """
