"""The HTTP edge: the vendor-compatible hot path (raw ASGI) and the rest of the API."""
