"""The one exception type whose message is meant for the user."""


class ShakesError(Exception):
    """A problem the user can fix. Command-line tools print it as one line, without a traceback."""
