# Shared fixtures for the core's and the plugins' tests.
pytest_plugins = ["portal.testing"]
