"""A reproducible benchmark of kiezgraph against its peers: `python -m bench` from the repo root."""

__all__: list[str] = []
