"""Declarative mappings: YAML says which source stream feeds which unified entity and how;
a small generic engine (``engine.py``) applies it. Source field names live only in the YAML."""
