"""Shared kit: settings, logs, metrics, tracing, health, faults, database and gRPC plumbing."""
