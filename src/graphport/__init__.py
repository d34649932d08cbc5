"""graphport: run LangGraph graphs behind the LangGraph Agent Server HTTP API."""

__version__ = "0.1.0"
# The langgraph-api release whose HTTP API graphport serves (reported by /info, which clients
# read to decide what the server supports).
API_VERSION = "0.16.7"
