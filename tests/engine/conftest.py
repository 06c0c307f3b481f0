"""Fixtures shared by the engine's data set tests."""
import urllib.error

import pytest


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    """A fake HOME, no data/cache variables, and a dataset loader whose downloads always fail."""
    from engine.datasets import _loader

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KERAS_HOME", "XDG_CACHE_HOME", "VISUALKERAS_DATA", "VISUALKERAS_CACHE", "VISUALKERAS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)

    def no_network(url, timeout):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(_loader, "_urlopen", no_network)
    return home
