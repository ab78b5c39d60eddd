"""Typed adapters over other services' gRPC stubs and the limits of their wire contracts, shared by the services that
call them (the only thing services share; each keeps its own domain)."""
