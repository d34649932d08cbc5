"""graphport: run LangGraph graphs behind the LangGraph Agent Server HTTP API."""

__version__ = "0.1.0"
