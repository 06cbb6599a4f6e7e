"""Fake network servers on 127.0.0.1 that speak each network's documented HTTP API."""
