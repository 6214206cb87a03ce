"""tap-u8db: Yonyou U8 read from its database, emitted in tap-u8's OpenAPI record shapes."""
