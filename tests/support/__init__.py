"""Helpers the test suites share, imported as `tests.support.<module>`: hand-built and real
releases, the trust tests' keys and tampering, backend and frontend services, the deploy
stand-in, the GitHub Actions runner, the browser checks (fit, axe-core, screenshots). Not
tests themselves; no fixtures (those live in the conftest.py files)."""
