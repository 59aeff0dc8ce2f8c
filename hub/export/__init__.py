"""Build-time generators: the catalog file (``hub export``) and the Make app built from it."""
