"""HTTP handlers: thin adapters from aiohttp requests to the pipeline stages."""
