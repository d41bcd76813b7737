"""The one exception type of this package."""


class NeuralStyleError(Exception):
    """Bad input for neural_style. The message is one line that names the file or
    parameter and says what to do; the CLI prints it as is."""
