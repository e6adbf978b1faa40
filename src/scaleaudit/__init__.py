"""scaleaudit: find and fix what stops a web app from serving 1,000 concurrent users."""

__version__ = "0.1.0"
