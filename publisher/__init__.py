"""kiezgraph: publish the Pankow neighbourhood-work cooperation network as linked open data."""

__all__ = ["__version__"]

__version__ = "0.1.0"
