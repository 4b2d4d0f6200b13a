"""The root of every exception the node package raises on purpose."""


class NightshiftError(Exception):
    """Base class for Nightshift errors. Each area subclasses it (chain, inference, server, CLI)."""


class ConfigError(NightshiftError):
    """Configuration is missing or invalid."""
