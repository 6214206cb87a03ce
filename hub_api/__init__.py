"""hub_api."""
