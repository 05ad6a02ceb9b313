"""The package version, in a module of its own so that nothing inside the package imports its top level."""

__version__ = "0.1.0"
