"""The one error the data pipeline raises for input the user can fix."""


class DataError(ValueError):
    """A problem with the user's data or data options, explained in one paragraph.

    The CLI prints the message and exits with code 2; library callers can catch
    it as a `ValueError`.
    """
