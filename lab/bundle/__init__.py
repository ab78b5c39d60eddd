"""Artifacts of the lab's bundle built here from pinned Debian packages and wheels."""
