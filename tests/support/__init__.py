"""Helpers the tests share: adapter checks, and driving the pipeline and commands."""
