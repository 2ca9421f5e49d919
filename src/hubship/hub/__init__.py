"""The local Hugging Face Hub-compatible server (`hubship hub`): model repos, commits, tags and
branches in SQLite, file contents as content-addressed blobs, spoken over the Hub's HTTP API."""

from hubship.hub.app import create_app

__all__ = ["create_app"]
