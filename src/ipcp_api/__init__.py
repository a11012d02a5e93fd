"""ipcp-api: a REST service for international partnership and cooperation programmes."""

__version__ = "0.1.0"
