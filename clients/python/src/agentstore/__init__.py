"""Python clients of the agentstore PostgreSQL extension.

- ``agentstore.langgraph``: ``AgentstoreSaver`` and ``AsyncAgentstoreSaver``,
  LangGraph checkpointers (``pip install 'agentstore[langgraph]'``);
- ``agentstore.adk``: ``AgentstoreSessionService``, a Google ADK session
  service (``pip install 'agentstore[adk]'``).

Every method is one call of the extension's SQL functions; this package only
converts between the frameworks' objects and the functions' arguments.
"""

from agentstore._pg import ExtensionMissingError, check_extension, acheck_extension

__all__ = ["ExtensionMissingError", "check_extension", "acheck_extension"]
