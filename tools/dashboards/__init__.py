"""Grafana dashboards as code (grafana-foundation-sdk): `python -m dashboards` writes them to
roles/observability/files/dashboards, where Grafana's provisioning and the lab's proof read them."""
