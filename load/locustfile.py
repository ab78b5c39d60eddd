"""The peak-day replay as a Locust test: signed mini-program users walking the journeys of the hour, and a
LoadTestShape that follows the diurnal curve compressed into settings.day_s.

Run by `python -m load.handover` (which seeds the catalogue, injects the fault and judges the gates); on its
own: `MINIAPP_LOAD_SETTINGS='{...}' locust -f load/locustfile.py --headless`. Requests are named by
journey; every request is also recorded (load/samples.py), which is what the gates read.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import time
from collections.abc import Callable

from locust import FastHttpUser, LoadTestShape, events, task
from locust.env import Environment

from load import samples, tenants, traffic
from load.journeys import JOURNEYS, Catalogue, Journey, Reply, Step, Visit
from load.settings import CATALOGUE_ENV, from_environment
from miniapp_services.clients.signed import SignedSession

SETTINGS = from_environment()
_START = {"t": time.monotonic()}
RECORDER = samples.Recorder()


def _catalogue() -> Catalogue:
    raw = json.loads(os.environ.get(CATALOGUE_ENV, '{"skus": ["LOAD-TEA"], "event_id": "load"}'))
    return Catalogue(skus=tuple(raw["skus"]), event_id=raw["event_id"])


@events.test_start.add_listener  # type: ignore[untyped-decorator]  # locust's EventHook is not annotated
def _started(environment: Environment, **_kwargs: object) -> None:
    _START["t"] = time.monotonic()
    if environment.parsed_options is None or not environment.parsed_options.worker:
        print(SETTINGS.replay.describe(), flush=True)


@events.request.add_listener  # type: ignore[untyped-decorator]
def _record(
    name: str,
    context: dict[str, str],
    response_time: float,
    response: object,
    exception: object,
    start_time: float | None = None,
    **_: object,
) -> None:
    """Each request's name, tenant (the users name it in the request's context), start, time and outcome."""
    started = time.time() - response_time / 1000 if start_time is None else start_time
    status = getattr(response, "status_code", 0) or 0
    RECORDER.record(
        samples.Sample(name, context.get("tenant", ""), started, round(response_time), status, exception is not None)
    )


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _write_samples(**_kwargs: object) -> None:
    RECORDER.write(SETTINGS.out, os.getpid())


def poisson_throughput(rate: float) -> Callable[[object], float]:
    """A wait time giving each user `rate` requests/s on average with exponential gaps between their starts,
    so that independent users arrive as a Poisson process, as a real day's do.

    Locust's constant_throughput keeps every user in the phase it started in, and a replay starts its
    users together: they fired in lockstep, every user at once, a burst no real day has. Measured here at
    10 requests/s from 20 users: p50 46 ms against 11 ms for the same load with exponential gaps.
    """

    def wait(user: object) -> float:
        now = time.monotonic()
        due = max(getattr(user, "_due", now) + random.expovariate(rate), now)  # pacing, not a secret
        user._due = due  # type: ignore[attr-defined]  # a per-user slot on whichever User locust passes
        return due - now

    return wait


class MiniProgramUser(FastHttpUser):
    wait_time = poisson_throughput(SETTINGS.user_rps)
    host = str(SETTINGS.target).rstrip("/")

    def on_start(self) -> None:
        self.signer: SignedSession | None = None
        self.visit = Visit(user=f"load-{secrets.token_hex(6)}", catalogue=_catalogue(), rng=random.Random())  # noqa: S311  # which page to browse, not a secret
        self.journey: tuple[str, Journey, Step] | None = None

    def _login(self) -> None:
        appid = tenants.pick(tenants.journey_appids(SETTINGS.tenants), self.visit.rng)
        body = json.dumps({"appid": appid, "code": f"code-{self.visit.user}", "nickname": "load"}).encode()
        # Bytes bodies: locust's docstring takes them, its annotation omits them; the signature covers these bytes.
        with self.client.post(
            "/api/login",
            data=body,  # type: ignore[arg-type]
            headers={"content-type": "application/json"},
            name="login",
            catch_response=True,
            context={"tenant": appid},
        ) as reply:
            if reply.status_code != 201:
                reply.failure(f"login answered {reply.status_code}")
                return
            found = reply.json()
            self.signer = SignedSession(found["token"], found["signing_key"], appid)

    def _next_journey(self) -> tuple[str, Journey, Step]:
        hour = SETTINGS.replay.hour_at(time.monotonic() - _START["t"])
        mix = traffic.journey_mix(math.floor(hour))
        name = self.visit.rng.choices(list(mix), weights=list(mix.values()))[0]
        journey = JOURNEYS[name](self.visit)
        return name, journey, next(journey)

    @task
    def step(self) -> None:
        """One request of the current journey per task, so constant_throughput paces requests, not visits."""
        if self.signer is None:
            self._login()
            return
        name, journey, step = self.journey or self._next_journey()
        reply = self._send(self.signer, name, step)
        try:
            self.journey = (name, journey, journey.send(reply))
        except StopIteration:
            self.journey = None

    def _send(self, signer: SignedSession, journey: str, step: Step) -> Reply:
        body = json.dumps(step.body).encode() if step.body is not None else b""
        headers = signer.headers(step.method, step.path, body)
        if step.body is not None:
            headers["content-type"] = "application/json"
        with self.client.request(
            step.method,
            step.path,
            data=body or None,  # type: ignore[arg-type]  # bytes bodies, as in _login
            headers=headers,
            name=journey,
            catch_response=True,
            context={"tenant": signer.appid},
        ) as reply:
            if reply.status_code not in step.ok:
                route = step.path.split("?")[0].rsplit("/", 1)[0] if step.path.count("/") > 2 else step.path
                reply.failure(f"{step.method} {route} answered {reply.status_code}")
                return Reply(reply.status_code)
            reply.success()
            return Reply(reply.status_code, reply.json() if step.reads and reply.content else None)


NOISY = tenants.noisy(SETTINGS.tenants)
NOISY_NAME = tenants.NOISY_NAME


class NoisyNeighbour(FastHttpUser):
    """One merchant's burst: a single user of the noisy tenant reading a product page at noisy_factor times the
    tenant's rate limit for the whole run. A 429 is the answer it should get, so it counts as a success, named
    apart; anything else but 200 is a failure. Present only when the tenant list configures a rate limit."""

    fixed_count = 1 if NOISY is not None else 0
    weight = 0
    host = str(SETTINGS.target).rstrip("/")
    wait_time = poisson_throughput((NOISY.limit_rps if NOISY else 1.0) * SETTINGS.noisy_factor)

    def on_start(self) -> None:
        self.signer: SignedSession | None = None
        self.path = f"/api/products/{_catalogue().skus[0]}"

    @task
    def read(self) -> None:
        if NOISY is None:
            return
        if self.signer is None:
            login = {"appid": NOISY.appid, "code": f"code-noisy-{secrets.token_hex(6)}"}
            reply = self.client.post("/api/login", json=login, name="login", context={"tenant": NOISY.appid})
            if reply.status_code == 201:
                found = reply.json()
                self.signer = SignedSession(found["token"], found["signing_key"], NOISY.appid)
            return
        headers = self.signer.headers("GET", self.path)
        context = {"tenant": NOISY.appid}
        with self.client.get(
            self.path, headers=headers, name=NOISY_NAME, catch_response=True, context=context
        ) as reply:
            outcome = {200: "admitted", 429: "limited"}.get(reply.status_code)
            if outcome is None:
                reply.failure(f"GET /api/products answered {reply.status_code}")
                return
            reply.request_meta["name"] = f"{NOISY_NAME} {outcome}"
            reply.success()


class PeakDay(LoadTestShape):
    """Users = target rate / per-user rate, following the replayed day; stops when the day is over."""

    def tick(self) -> tuple[int, float] | None:
        elapsed: float = self.get_run_time()  # type: ignore[no-untyped-call]  # LoadTestShape is not annotated
        if elapsed >= SETTINGS.day_s:
            return None
        users = max(1, math.ceil(SETTINGS.replay.rate_at(elapsed) / SETTINGS.user_rps))
        return users, float(max(users, 10))
