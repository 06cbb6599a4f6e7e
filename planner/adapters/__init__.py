"""Network adapters: the interface, the registry and the built-in networks."""
