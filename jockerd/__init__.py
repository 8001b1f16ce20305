"""jockerd: a Docker Engine API daemon written in Python. Constants only."""

__version__ = "0.1.0"
API_VERSION = "1.51"
MIN_API_VERSION = "1.24"
