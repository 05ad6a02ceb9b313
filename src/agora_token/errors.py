"""The one exception type a token parser raises."""


class TokenError(ValueError):
    """A token string is malformed, truncated, or not of the expected version."""
