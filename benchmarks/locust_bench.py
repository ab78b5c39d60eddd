"""Locust users for benchmarks/load_capacity.py: the handover's signed mini-program user (no replay shape
here: the benchmark sets users and duration), and a bare user for the Envoy direct-response baseline."""

from locust import FastHttpUser, constant, task

from load.locustfile import MiniProgramUser

__all__ = ["DirectUser", "MiniProgramUser"]


class DirectUser(FastHttpUser):
    """As fast as it can: GET / from an Envoy that answers itself (no upstream, no signing)."""

    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/", name="direct")
