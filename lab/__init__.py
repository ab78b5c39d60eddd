"""The podman lab that stands in for a site: hosts, bundle recipes, mesh backend, observability."""
