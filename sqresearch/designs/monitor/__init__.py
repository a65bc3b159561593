"""The weekly monitor study type."""
