"""The probes read a sidecar's stats where Prometheus does (15090), keyed as Envoy names them."""

from lab.mesh.probe import envoy_names

EXPOSITION = """# TYPE envoy_cluster_upstream_rq counter
envoy_cluster_upstream_rq{response_code_class="2xx",cluster_name="inbound|8080||"} 44
envoy_cluster_upstream_rq{response_code_class="5xx",cluster_name="inbound|8080||"} 12
envoy_cluster_upstream_rq{response_code="503",cluster_name="outbound|8080|v1|pay.trade.svc.cluster.local"} 3
# TYPE envoy_cluster_outlier_detection_ejections_active gauge
envoy_cluster_outlier_detection_ejections_active{cluster_name="outbound|8080|v1|pay.trade.svc.cluster.local"} 1
envoy_server_live 1
envoy_listener_downstream_cx_total{listener_address="10.88.0.5_8080"} 7
envoy_cluster_upstream_rq_time_bucket{cluster_name="x",le="0.5"} 2.5
"""


def test_tags_go_back_into_envoys_names_and_the_rest_stays_a_label() -> None:
    assert envoy_names(EXPOSITION) == {
        "cluster.inbound|8080||.upstream_rq_2xx": 44,
        "cluster.inbound|8080||.upstream_rq_5xx": 12,
        "cluster.outbound|8080|v1|pay.trade.svc.cluster.local.upstream_rq_503": 3,
        "cluster.outbound|8080|v1|pay.trade.svc.cluster.local.outlier_detection_ejections_active": 1,
        "server_live": 1,
        "listener_downstream_cx_total{listener_address=10.88.0.5_8080}": 7,
    }


def test_nothing_is_read_from_an_empty_or_foreign_answer() -> None:
    assert envoy_names("") == {}
    assert envoy_names("<html>404</html>") == {}
