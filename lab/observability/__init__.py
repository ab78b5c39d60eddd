"""The lab's observability backend: the real Prometheus (Debian's build) scraping the lab mesh and etcd."""
