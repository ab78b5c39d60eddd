"""One settings model for every service, read from MINIAPP_* environment variables when asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    Field,
    HttpUrl,
    PostgresDsn,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = (
    "gateway",
    "user",
    "product",
    "inventory",
    "cart",
    "order",
    "pay",
    "coupon",
    "checkin",
    "seckill",
    "notify",
    "search",
)


class Settings(BaseSettings):
    """Everything a service process reads from its environment; nothing else is configurable."""

    model_config = SettingsConfigDict(env_prefix="MINIAPP_", env_nested_delimiter="__", extra="forbid")

    service: str = Field(description="which service this process serves, one of SERVICES")
    version: str = Field(default="v1", pattern=r"^[a-z0-9][a-z0-9.-]{0,31}$", description="served version label")
    http_host: str = "0.0.0.0"  # noqa: S104  # the pod's own address; the sidecar fronts it
    http_port: int = Field(default=8080, ge=0, le=65535)
    grpc_port: int = Field(default=9090, ge=0, le=65535)
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="plain /metrics on all addresses for Prometheus; the pod excludes it from the sidecar",
    )
    database_url: SecretStr = Field(description="postgresql+asyncpg://user:password@host:port/db")
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=5, ge=0, le=100)
    db_pool_timeout_s: float = Field(default=3.0, gt=0, le=60)
    max_concurrency: int = Field(default=64, ge=1, le=10_000, description="requests served at once; more get 503")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Every request header's name and value together; NGINX in front refuses a line over 8 KiB (its
    # large_client_header_buffers) and Envoy a block over 60 KiB, so a bigger block only comes from inside.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=64 * 1024)
    dependencies: dict[str, str] = Field(default_factory=dict, description="service name -> gRPC target host:port")
    upstreams: dict[str, AnyHttpUrl] = Field(default_factory=dict, description="service name -> HTTP base URL")
    tenants_file: Path | None = Field(
        default=None,
        description="gateway only: every tenant's appid and keys (JSON), projected from roles/services' Secret",
    )
    stores: dict[str, SecretStr] = Field(
        default_factory=dict, description="store name -> redis://:password@host:port/db (the catalog's stores)"
    )
    registry_endpoint: AnyHttpUrl | None = Field(default=None, description="etcd client URL; unset: no registry")
    config_endpoints: tuple[AnyHttpUrl, ...] = Field(
        default=(),
        description="gateway only: the etcd members holding each tenant's /config/<appid>/app.yaml (JSON list);"
        " none: every tenant on the defaults",
    )
    config_tls_dir: Path | None = Field(
        default=None,
        description="gateway only: ca.crt, tls.crt and tls.key for the config centre's etcd (client certificates)",
    )
    tenant_config_refresh_s: float = Field(
        default=30.0, gt=0, le=3600, description="gateway only: how often the tenants' configuration is read again"
    )
    registry_advertise: str | None = Field(default=None, description="host:port others reach this instance at")
    registry_weight: int = Field(default=100, ge=1, le=10_000, description="share of traffic, relative to peers")
    registry_lease_ttl_s: int = Field(
        default=30,
        ge=2,
        le=300,
        description="the instance key's lease; refreshed every third of it, re-granted if lapsed",
    )
    registry_namespace: str = Field(
        default="default",
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="the namespace the instance registers in (the design's tenant namespace), whose cap it counts in",
    )
    registry_instance_cap: int = Field(
        default=10, ge=1, le=1000, description="instances the registry admits per namespace; one more does not start"
    )
    registry_p0: tuple[str, ...] = Field(default=(), description="gateway only: services probed every 500 ms")
    rules_file: Path | None = Field(default=None, description="gateway only: degradation rules, reloaded on change")
    rules_reload_s: float = Field(
        default=1.0, gt=0, le=60, description="gateway only: how often the rules file is checked (the design's 1 s)"
    )
    signature_window_s: int = Field(
        default=300, ge=10, le=3600, description="gateway only: how far a signed request's timestamp may be off"
    )
    payment_deadline_s: int | None = Field(
        default=None,
        ge=1,
        le=7 * 86_400,
        description="order only: an order unpaid this long after it was placed is cancelled and its stock released",
    )
    # Longer than the sidecar keeps an idle connection to the app (Envoy's default idle timeout, 1 h), so the
    # sidecar closes one first: with uvicorn's 5 s, a request sent on a connection the app was just closing came
    # back 503 UC (1 in 2,000 in the lab's split test). Only the pod's own sidecar connects to the app.
    http_keep_alive_s: int = Field(default=3900, ge=1, le=86_400, description="idle keep-alive of the app's HTTP")
    http_timeout_s: float = Field(default=2.0, gt=0, le=60)
    outbound_max_connections: int = Field(default=32, ge=1, le=1000)
    faults_enabled: bool = False
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=120)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    trace_sample_ratio: float = Field(
        default=0.001, ge=0, le=1, description="share of traces started here that are recorded (1:1000)"
    )
    trace_hot_paths: dict[Annotated[str, StringConstraints(pattern=r"^/")], Annotated[float, Field(ge=0, le=1)]] = (
        Field(default_factory=dict, description="path prefix -> the share of traces started on it that are recorded")
    )
    otlp_traces_endpoint: HttpUrl | None = Field(
        default=None, description="OTLP/HTTP traces endpoint (Tempo's /v1/traces); unset, spans are not exported"
    )
    request_log_ratio: float = Field(
        default=0.001, ge=0, le=1, description="share of answered requests logged (1:1000); errors always are"
    )

    @field_validator("service")
    @classmethod
    def _known_service(cls, value: str) -> str:
        if value not in SERVICES:
            raise ValueError(f"unknown service {value!r}; set MINIAPP_SERVICE to one of: {', '.join(SERVICES)}")
        return value

    @field_validator("dependencies", "upstreams")
    @classmethod
    def _known_services(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown services {unknown}; use names from {SERVICES}")
        return value

    @model_validator(mode="after")
    def _gateway_secret(self) -> Settings:
        if self.service == "gateway" and self.tenants_file is None:
            raise ValueError(
                "tenants_file: the gateway needs MINIAPP_TENANTS_FILE, the tenants' keys (roles/services makes them"
                " per install and per tenant, Secret gateway-tenants)"
            )
        if self.service == "gateway" and "nonces" not in self.stores:
            raise ValueError(
                "stores: the gateway needs its replay guard, MINIAPP_STORES__NONCES=redis://:password@host:port/0"
            )
        return self

    @field_validator("stores")
    @classmethod
    def _redis_urls(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, url in value.items():
            if not url.get_secret_value().startswith(("redis://", "rediss://")):
                raise ValueError(f"MINIAPP_STORES__{name.upper()} must be a redis:// or rediss:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: SecretStr) -> SecretStr:
        url = PostgresDsn(value.get_secret_value())
        if url.scheme != "postgresql+asyncpg":
            raise ValueError("MINIAPP_DATABASE_URL must start with postgresql+asyncpg://")
        return value


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment now (never at import), with explicit overrides for tests."""
    return Settings(**overrides)
