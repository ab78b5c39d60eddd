"""The stand-in's exposition: cAdvisor's names and the kubelet's labels, parsed by Prometheus's own parser."""

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lab.observability.cadvisor_standin import exposition


def test_series_names_labels_and_values(tmp_path: Path) -> None:
    base = tmp_path / "libpod_parent/pod1/app"
    base.mkdir(parents=True)
    (tmp_path / "cgroup.controllers").write_text("memory\n")
    for name, text in {
        "memory.current": "3000",
        "memory.max": "100663296",
        "memory.stat": "inactive_file 1000\n",
        "cpu.stat": "usage_usec 4000000\n",
    }.items():
        (base / name).write_text(text)
    containers = [
        {"namespace": "miniapp", "pod": "pay-v1-0", "container": "app", "cgroup": "/libpod_parent/pod1/app"},
        {"namespace": "miniapp", "pod": "gone-0", "container": "app", "cgroup": "/libpod_parent/gone"},
    ]
    families = {f.name: f for f in text_string_to_metric_families(exposition(containers, tmp_path))}
    labels = {"namespace": "miniapp", "pod": "pay-v1-0", "container": "app"}
    assert [(s.labels, s.value) for s in families["container_memory_working_set_bytes"].samples] == [(labels, 2000)]
    assert families["container_spec_memory_limit_bytes"].samples[0].value == 100663296
    assert families["container_cpu_usage_seconds"].samples[0].value == 4.0
