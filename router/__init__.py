"""local-llm-router: an OpenAI-compatible proxy that routes each request.

Pipeline: decode -> classify -> decide -> dispatch -> stream -> record.
"""

__version__ = "0.1.0"
