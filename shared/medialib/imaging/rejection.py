"""What every reader of untrusted files raises when it refuses one: a stable failure code."""

from medialib.domain.failures import FailureCode


class Rejected(Exception):
    """The file cannot be processed; ``code`` is the item's failure code."""

    code: FailureCode
