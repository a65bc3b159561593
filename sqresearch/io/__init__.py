"""Inputs: study parameters (schemas, YAML), data sources, paths, typed errors, provenance."""
