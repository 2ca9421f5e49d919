"""Small things the backend tests share (their releases come from `release_builder`)."""

from __future__ import annotations

ADMIN_TOKEN = "admin-secret-for-tests"


def log_text(service) -> str:
    """Everything a started `hubship.services.Service` wrote to its log."""
    return service.log_path.read_text(errors="replace") if service.log_path else ""
