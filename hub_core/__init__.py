"""hub_core."""
