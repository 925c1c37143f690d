"""newsflow's own exception types: every boundary translates library errors into these."""

from __future__ import annotations


class NewsflowError(Exception):
    """Base of every error newsflow raises on purpose; its message is meant for a person."""


class ConfigError(NewsflowError):
    """Settings or the sources file are wrong; nothing will work until they are fixed."""


class RetryableError(NewsflowError):
    """A transient failure (service down, overloaded, timed out): try again later."""


class PermanentError(NewsflowError):
    """A failure that will not go away by retrying: dead-letter the item or fail the poll."""


class ParseError(PermanentError):
    """A source's bytes could not be parsed into raw items."""


class InvalidItem(PermanentError):
    """A raw item cannot become a valid Article."""


class ServiceError(NewsflowError):
    """A local-stack service could not be started, stopped or reached."""
