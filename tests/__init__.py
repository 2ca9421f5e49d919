"""hubship's tests: a package, so the shared helpers import as `tests.support.<module>`."""
