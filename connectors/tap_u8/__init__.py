"""Singer tap for the Yonyou U8 OpenAPI (REST path)."""
