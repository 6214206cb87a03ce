"""tap-files: customer lists and finance credit ratings from an Excel/CSV drop folder."""
