"""Typed adapters over other services' gRPC stubs, shared by the services that call them (the stubs are the
only thing services share; each keeps its own domain)."""
