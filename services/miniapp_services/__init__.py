"""The mini-program backend's domain services, one package and one image for all of them."""
