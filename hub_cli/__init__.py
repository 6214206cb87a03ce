"""hub_cli."""
