"""End-to-end tests: Playwright driving the machine's own Chromium; the ``browser`` and ``page``
fixtures are in the root conftest.py, shared with the other browser tests."""
