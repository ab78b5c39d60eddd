"""VirtualService http routes as Envoy routes, with Istio's defaults: 0 s timeout and its retry policy."""

from __future__ import annotations

from typing import Any

from lab.mesh.clusters import cluster_name, duration

# Istio's default retry policy on every outbound route (503 is not retried: EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY).
DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
PREVIOUS_HOSTS = {
    "name": "envoy.retry_host_predicates.previous_hosts",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
    },
}


def retry_policy(retries: dict[str, Any] | None) -> dict[str, Any] | None:
    """Istio's ConvertPolicy: none set -> the default policy; attempts 0 -> no retries; retryOn codes split out."""
    if retries is not None and retries.get("attempts", 0) == 0:
        return None
    retries = retries or {}
    policy = {
        "retry_on": DEFAULT_RETRY_ON,
        "num_retries": retries.get("attempts", 2),
        "retry_host_predicate": [PREVIOUS_HOSTS],
        "host_selection_retry_max_attempts": 5,
    }
    if "retryOn" in retries:
        parts = [p.strip() for p in retries["retryOn"].split(",") if p.strip()]
        codes = [int(p) for p in parts if p.isdigit()]
        names = [p for p in parts if not p.isdigit()]
        if codes:
            policy["retriable_status_codes"] = codes
            names.append("retriable-status-codes")
        policy["retry_on"] = ",".join(names)
    if "perTryTimeout" in retries:
        policy["per_try_timeout"] = duration(retries["perTryTimeout"])
    return policy


def header_matchers(headers: dict[str, Any]) -> list[dict[str, Any]]:
    """Header matches sorted by name, as Istio emits them; {} or regex '*' means presence."""
    out = []
    for name in sorted(headers):
        match = headers[name] or {}
        if not match or match.get("regex") == "*":
            out.append({"name": name, "present_match": True})
        elif "exact" in match:
            out.append({"name": name, "string_match": {"exact": match["exact"]}})
        elif "prefix" in match:
            out.append({"name": name, "string_match": {"prefix": match["prefix"]}})
        else:
            out.append({"name": name, "string_match": {"safe_regex": {"regex": match["regex"]}}})
    return out


def route_match(match: dict[str, Any] | None) -> dict[str, Any]:
    uri = (match or {}).get("uri", {})
    out: dict[str, Any] = {"prefix": uri.get("prefix", "/")}
    if "exact" in uri:
        out = {"path": uri["exact"]}
    elif "regex" in uri:
        out = {"safe_regex": {"regex": uri["regex"]}}
    if match is not None:
        out["case_sensitive"] = not match.get("ignoreUriCase", False)
        if match.get("headers"):
            out["headers"] = header_matchers(match["headers"])
    return out


def route_action(http: dict[str, Any], port: int) -> dict[str, Any]:
    """One destination -> cluster; several -> weighted_clusters without total_weight, weight-0 dropped."""

    def name(d: dict[str, Any]) -> str:
        dest = d["destination"]
        return cluster_name("outbound", dest.get("port", {}).get("number", port), dest.get("subset", ""), dest["host"])

    destinations = http["route"]
    action: dict[str, Any]
    if len(destinations) == 1:
        action = {"cluster": name(destinations[0])}
    else:
        weighted = [{"name": name(d), "weight": d["weight"]} for d in destinations if d.get("weight", 0) > 0]
        action = {"weighted_clusters": {"clusters": weighted}}
    action["timeout"] = duration(http["timeout"]) if "timeout" in http else "0s"
    retry = retry_policy(http.get("retries"))
    if retry is not None:
        action["retry_policy"] = retry
    return action


def routes(spec: dict[str, Any], port: int) -> list[dict[str, Any]]:
    """A VirtualService's http[] in order, one Envoy route per match, stopping after the first catch-all."""
    out = []
    for http in spec.get("http", []):
        action = route_action(http, port)
        for match in http.get("match") or [None]:
            name = ".".join(filter(None, [http.get("name"), (match or {}).get("name")])) or "default"
            out.append({"name": name, "match": route_match(match), "route": action})
            if match is None:
                return out
    return out


def default_route(host: str, port: int) -> dict[str, Any]:
    """A service with no VirtualService: one route to its default-subset cluster."""
    action = {"cluster": cluster_name("outbound", port, "", host), "timeout": "0s", "retry_policy": retry_policy(None)}
    return {"name": "default", "match": {"prefix": "/"}, "route": action}


def domains(host: str, port: int) -> list[str]:
    """The names a caller may use: the FQDN and its short forms, each also with the port."""
    parts = host.split(".")
    names = [host] + [".".join(parts[:n]) for n in (1, 2, 3)]
    return names + [f"{n}:{port}" for n in names]


def block_all() -> dict[str, Any]:
    """REGISTRY_ONLY: any host not in the registry gets 502."""
    return {
        "name": "block_all",
        "domains": ["*"],
        "routes": [{"name": "block_all", "match": {"prefix": "/"}, "direct_response": {"status": 502}}],
    }
