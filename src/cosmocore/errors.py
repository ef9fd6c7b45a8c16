"""The one error type for bad user input: a file, a line, a field, a name or a setting.

The CLI reports it as a single line, `cosmocore: error: ...`, and exits with code 2. Everything
else that goes wrong is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """Bad user input; the message names what is wrong and where."""
