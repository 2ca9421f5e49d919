"""Backend services."""
