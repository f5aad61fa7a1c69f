"""hardener: find and fix security problems in Flask projects."""

__version__ = "0.1.0"
