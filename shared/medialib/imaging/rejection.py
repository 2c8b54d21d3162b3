"""What every reader of untrusted files raises when it refuses one: a stable failure code."""


class Rejected(Exception):
    """The file cannot be processed; ``code`` is the item's failure code."""

    code: str
