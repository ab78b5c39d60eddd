"""Whole sidecars compiled from the lab catalog's rendered objects, and checked by the real Envoy 1.40."""

import json
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography import x509
from envoy_run import ENVOY, run_envoy

from ansible_collections.miniapp.mesh.plugins.module_utils import mesh_catalog, mesh_render
from lab.mesh import compile as mesh
from lab.mesh import endpoints, pki
from lab.mesh.clusters import TlsFiles
from lab.mesh.endpoints import EndpointFiles
from lab.mesh.listeners import rbac

ROOT = Path(__file__).parents[4]
RAW = yaml.safe_load((ROOT / "inventories/lab/group_vars/all/services_catalog.yml").read_text())["services_catalog"]
RENDERED = mesh_render.render(
    mesh_catalog.load(RAW),
    mesh_render.RenderOptions(image="x/miniapp-services:0.1.0", store_image="x/miniapp-redis:7.0"),
)
OBJECTS = mesh.checked(RENDERED)
TLS = TlsFiles("/certs")


PODS = mesh.pods_from(OBJECTS, "10.89.0.", 10)


def _pod(app: str) -> mesh.Pod:
    return next(p for p in PODS if p.app == app)


def _config(app: str) -> dict:
    return mesh.sidecar(OBJECTS, PODS, _pod(app), TLS, "cluster.local")


def _validation(tls: dict) -> dict:
    """What a TLS context checks of its peer besides the root (which comes by SDS)."""
    return tls["common_tls_context"]["combined_validation_context"]["default_validation_context"]


def _clusters(app: str) -> dict[str, dict]:
    return _clusters_of(_pod(app))


def _clusters_of(pod: mesh.Pod) -> dict[str, dict]:
    config = mesh.sidecar(OBJECTS, PODS, pod, TLS, "cluster.local")
    return {c["name"]: c for c in config["static_resources"]["clusters"]}


def test_egress_is_only_what_the_sidecar_object_allows() -> None:
    names = {n.split("|")[3] for n in _clusters("order") if n.startswith("outbound")}
    assert names == {
        "product.miniapp.svc.cluster.local",
        "inventory.trade.svc.cluster.local",
        "pay.trade.svc.cluster.local",
    }


def test_a_tcp_store_is_reached_at_its_own_address_over_mtls_and_admits_only_its_clients() -> None:
    """Istio cannot route TCP by name: the gateway's sidecar listens for the nonces store at the store's own
    address (its names resolve there in the pod) and proxies bytes to it over mTLS; the store's sidecar
    accepts TLS only and lets the gateway's identity alone through, per connection."""
    host = "nonces.miniapp.svc.cluster.local"
    address = OBJECTS.tcp[host]
    (listener,) = [
        x for x in _config("gateway")["static_resources"]["listeners"] if x["name"] == f"outbound_{address}_6379"
    ]
    (proxy,) = listener["filter_chains"][0]["filters"]
    assert proxy["typed_config"]["cluster"] == f"outbound|6379||{host}"
    upstream = _clusters("gateway")[f"outbound|6379||{host}"]
    assert "typed_extension_protocol_options" not in upstream
    sans = _validation(upstream["transport_socket"]["typed_config"])
    assert sans["match_typed_subject_alt_names"][0]["matcher"]["exact"] == "spiffe://cluster.local/ns/miniapp/sa/nonces"
    (inbound, *_) = _config("nonces")["static_resources"]["listeners"]
    (chain,) = inbound["filter_chains"]
    assert chain["filter_chain_match"] == {"transport_protocol": "tls"}
    guard, tcp = chain["filters"]
    principals = guard["typed_config"]["rules"]["policies"]["allowed-callers"]["principals"]
    assert [p["authenticated"]["principal_name"]["exact"] for p in principals] == [
        "spiffe://cluster.local/ns/miniapp/sa/gateway"
    ]
    assert (guard["name"], tcp["typed_config"]["cluster"]) == ("envoy.filters.network.rbac", "inbound|6379||")
    assert not any(x["name"].endswith("_6379") for x in _config("order")["static_resources"]["listeners"])


def test_subset_clusters_hold_only_their_versions_pods() -> None:
    sets = {s.cluster: s for s in mesh.endpoint_sets(OBJECTS, PODS)}
    host = "product.miniapp.svc.cluster.local"
    members = [sets[f"outbound|8080|{subset}|{host}"].members for subset in ("v1", "v2", "")]
    assert [[m.pod for m in found] for found in members] == [
        ["product-v1-0", "product-v1-1"],
        ["product-v2-0"],
        ["product-v1-0", "product-v1-1", "product-v2-0"],
    ]
    assert {m.port for found in members for m in found} == {8080}


def test_outbound_clusters_read_their_endpoints_from_the_files_the_kubelet_stand_in_writes() -> None:
    """Every outbound cluster of every sidecar is EDS from its own file, and each has its endpoint set; the
    sidecar's own app and admin stay static."""
    names = {s.cluster for s in mesh.endpoint_sets(OBJECTS, PODS)}
    for pod in PODS:
        for name, built in _clusters_of(pod).items():
            if not name.startswith("outbound|"):
                assert built["type"] == "STATIC", name
                continue
            assert name in names
            assert built["type"] == "EDS"
            source = built["eds_cluster_config"]["eds_config"]["path_config_source"]["path"]
            assert source == f"{mesh.ENDPOINT_FILES.directory}/{name.replace('|', '_')}.json"


def test_outbound_tls_verifies_the_callees_spiffe_id_exactly() -> None:
    tls = _clusters("pay")["outbound|8080||order.trade.svc.cluster.local"]["transport_socket"]["typed_config"]
    sans = _validation(tls)["match_typed_subject_alt_names"]
    assert sans == [{"san_type": "URI", "matcher": {"exact": "spiffe://cluster.local/ns/trade/sa/order"}}]
    assert tls["sni"] == "outbound_.8080_._.order.trade.svc.cluster.local"


def _tls_params(node: object) -> list[dict]:
    """Every tls_params anywhere in an Envoy configuration."""
    if isinstance(node, dict):
        own = [node["tls_params"]] if "tls_params" in node else []
        return own + [p for v in node.values() for p in _tls_params(v)]
    if isinstance(node, list):
        return [p for v in node for p in _tls_params(v)]
    return []


def test_between_sidecars_tls_is_1_3_only_both_ways() -> None:
    for app in ("gateway", "order", "pay"):
        params = _tls_params(_config(app))
        assert params, app
        assert all(
            p == {"tls_minimum_protocol_version": "TLSv1_3", "tls_maximum_protocol_version": "TLSv1_3"} for p in params
        )


def test_inbound_is_tls_only_with_client_certificates_and_the_callers_principals() -> None:
    (listener, *_) = _config("order")["static_resources"]["listeners"]
    (chain,) = listener["filter_chains"]
    assert chain["filter_chain_match"] == {"transport_protocol": "tls"}
    assert chain["transport_socket"]["typed_config"]["require_client_certificate"] is True
    rbac_filter = chain["filters"][0]["typed_config"]["http_filters"][0]
    principals = rbac_filter["typed_config"]["rules"]["policies"]["allowed-callers"]["principals"]
    assert [p["authenticated"]["principal_name"]["exact"] for p in principals] == [
        "spiffe://cluster.local/ns/miniapp/sa/gateway",
        "spiffe://cluster.local/ns/trade/sa/pay",
    ]


@pytest.mark.parametrize(
    ("principals", "policies"), [(None, None), ([], {}), (["cluster.local/ns/a/sa/b"], ["allowed-callers"])]
)
def test_rbac_none_means_no_filter_and_empty_allows_nobody(principals: list | None, policies: object) -> None:
    got = rbac(principals)
    if policies is None:
        assert got == {}
        return
    assert list(got["typed_config"]["rules"]["policies"]) == list(policies)


def test_inbound_cluster_is_the_app_on_loopback_with_the_pool_limits() -> None:
    inbound = _clusters("pay")["inbound|8080||"]
    assert inbound["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 8080,
    }
    assert inbound["circuit_breakers"]["thresholds"][0]["max_pending_requests"] == 2
    assert "outlier_detection" not in inbound


def test_every_sidecar_passes_envoy_validate(tmp_path: Path) -> None:
    ca = pki.new_ca("cluster.local")
    pki.write(tmp_path, ca, pki.issue(ca, "spiffe://cluster.local/ns/miniapp/sa/gateway"))
    tls, files = TlsFiles(str(tmp_path)), EndpointFiles(str(tmp_path / "endpoints"))
    endpoints.write(tmp_path / "endpoints", mesh.endpoint_sets(OBJECTS, PODS), frozenset(p.name for p in PODS))
    for pod in {p.app: p for p in PODS}.values():
        path = tmp_path / f"{pod.app}.json"
        path.write_text(json.dumps(mesh.sidecar(OBJECTS, PODS, pod, tls, "cluster.local", files)))
        done = subprocess.run([ENVOY, "--mode", "validate", "-c", path, "-l", "error"], capture_output=True, text=True)
        assert done.returncode == 0, f"{pod.app}: {done.stdout[-2000:]}{done.stderr[-2000:]}"


def test_envoy_validate_refuses_a_broken_config(tmp_path: Path) -> None:
    config = _config("user")
    config["static_resources"]["clusters"][0]["lb_policy"] = "FASTEST"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([ENVOY, "--mode", "validate", "-c", path, "-l", "error"], capture_output=True, text=True)
    assert done.returncode != 0
    assert "FASTEST" in done.stdout + done.stderr


def test_workload_certificate_has_exactly_its_spiffe_id() -> None:
    ca = pki.new_ca("cluster.local")
    issued = x509.load_pem_x509_certificate(pki.issue(ca, "spiffe://cluster.local/ns/trade/sa/pay").cert_pem)
    sans = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://cluster.local/ns/trade/sa/pay"]
    issued.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem))


def test_stats_carry_istios_tags_on_the_stats_listener(tmp_path: Path) -> None:
    """A real Envoy with the sidecar's stats config names series as Istio's sidecars do, on 15090's route,
    and keeps only what Istio's inclusion list and the mesh's prefixes keep."""
    outbound = "outbound|8080|v1|pay.miniapp.svc.cluster.local"
    clusters = [mesh.cluster(outbound, {}, [("127.0.0.1", 9)], http2=False)]
    config = mesh._bootstrap("t", "t", [], clusters, mesh.stats_config({}))

    def scrape(ports: dict[str, int]) -> dict[str, str]:
        return {"scraped": httpx.get(f"http://127.0.0.1:{ports['prometheus_stats']}/stats/prometheus").text}

    scraped = run_envoy(tmp_path, config, scrape)["scraped"]
    assert f'envoy_cluster_upstream_rq_pending_overflow{{cluster_name="{outbound}"}} 0' in scraped
    assert "envoy_server_live" in scraped
    assert "envoy_runtime_" not in scraped  # runtime.* is not on Istio's list
    assert 'cluster_name="prometheus_stats"' not in scraped  # nor are the sidecar's own plumbing clusters


def test_admin_is_on_loopback_and_the_pods_ports_serve_only_stats_and_readiness(tmp_path: Path) -> None:
    """Istio's binding: admin on 127.0.0.1 only; 15090 answers GET /stats/prometheus and 15021 GET /healthz/ready,
    and nothing else of the admin API (no /quitquitquit, /healthcheck/fail, /server_info) through either."""
    config = mesh._bootstrap("t", "t", [], [], mesh.stats_config({}))
    assert config["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    bound = {
        lst["name"]: lst["address"]["socket_address"]["port_value"] for lst in config["static_resources"]["listeners"]
    }
    assert bound == {"prometheus_stats": mesh.STATS_PORT, "health": mesh.HEALTH_PORT}

    def ask(ports: dict[str, int]) -> dict[str, str]:
        stats, health = (f"http://127.0.0.1:{ports[n]}" for n in ("prometheus_stats", "health"))
        with httpx.Client(timeout=5) as client:
            return {
                "stats": str(client.get(f"{stats}/stats/prometheus").status_code),
                "ready": client.get(f"{health}/healthz/ready").text.strip(),
                "stats server_info": str(client.get(f"{stats}/server_info").status_code),
                "stats quit": str(client.post(f"{stats}/quitquitquit").status_code),
                "stats POST": str(client.post(f"{stats}/stats/prometheus").status_code),
                "health fail": str(client.post(f"{health}/healthcheck/fail").status_code),
                "health /ready": str(client.get(f"{health}/ready").status_code),
                "still ready": client.get(f"{health}/healthz/ready").text.strip(),
            }

    answers = run_envoy(tmp_path, config, ask)
    assert answers == {"stats": "200", "ready": "LIVE", "stats server_info": "404", "stats quit": "404",
                       "stats POST": "404", "health fail": "404", "health /ready": "404", "still ready": "LIVE"}  # fmt: skip


def test_the_compiler_takes_only_objects_the_istio_models_accept() -> None:
    assert mesh.checked(RENDERED).raw == RENDERED
    broken = json.loads(json.dumps(RENDERED))
    rule = next(o for o in broken if o["kind"] == "DestinationRule" and o["metadata"]["name"] == "pay")
    rule["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxError"] = 3
    with pytest.raises(
        mesh.RefusedObjects, match=r"DestinationRule trade/pay: spec.trafficPolicy.outlierDetection.consecutive5xxError"
    ):
        mesh.checked(broken)


def test_a_sidecar_runs_the_worker_threads_its_pod_asks_for_else_istios_default() -> None:
    catalog = mesh_catalog.load({**RAW, "sidecar_concurrency": 1})
    rendered = mesh_render.render(catalog, mesh_render.RenderOptions(image="x/s:1", store_image="x/r:7"))
    assert {mesh.concurrency(mesh.checked(rendered), p) for p in PODS} == {1}
    for deployment in (o for o in rendered if o["kind"] == "Deployment"):
        deployment["spec"]["template"]["metadata"]["annotations"].pop(mesh_render.PROXY_CONFIG)
    assert mesh.concurrency(mesh.checked(rendered), _pod("gateway")) == mesh_catalog.ISTIO_CONCURRENCY == 2
