# Shared fixtures for the core's and the plugins' tests: the core's, and the device plugins' contract kit (the
# fixtures and read helpers a vendor's plugin tests use too).
pytest_plugins = ["portal.demo.testing", "portal.devices.testing"]
