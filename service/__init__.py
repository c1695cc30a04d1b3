"""PlaneNet service: the HTTP API, store and job runner over the core."""
