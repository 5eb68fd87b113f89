"""The channel catalog: every type name resolves to its module's TYPE, imported only when asked for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from alertd.channels import catalog


@pytest.mark.parametrize("name", sorted(catalog.CATALOG))
def test_each_name_loads_the_type_of_that_name(name: str) -> None:
    """``load(name)`` gives the ChannelType called ``name`` (apprise is installed with the dev extras)."""
    kind = catalog.load(name)
    assert kind is not None
    assert kind.name == name


def test_an_unknown_type_is_none() -> None:
    assert catalog.load("carrier-pigeon") is None
    assert not catalog.installed("carrier-pigeon")


def test_a_type_whose_extra_is_missing_is_known_but_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without its extra, apprise is in the catalog yet neither installed, usable nor loadable."""
    monkeypatch.setitem(catalog.EXTRAS, "apprise", "alertd_test_no_such_extra")
    assert "apprise" in catalog.CATALOG
    assert not catalog.installed("apprise")
    assert "apprise" not in catalog.usable()
    assert catalog.load("apprise") is None


def test_loading_one_type_imports_no_other_channel_module() -> None:
    """In a fresh interpreter, asking for webhook imports webhook's module, not slack's, email's or apprise."""
    code = (
        "import sys; from alertd.channels import channel_type; channel_type('webhook'); "
        "import json; print(json.dumps([m for m in sys.modules if m.startswith('alertd.channels.') or m == 'apprise']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(json.loads(done.stdout))
    assert "alertd.channels.webhook" in loaded
    assert not loaded & {"alertd.channels.slack", "alertd.channels.email", "alertd.channels.apprise_channel", "apprise"}


def test_the_registry_lists_every_installed_type() -> None:
    """REGISTRY (built on first use) holds exactly the usable types."""
    from alertd.channels import REGISTRY

    assert sorted(REGISTRY) == catalog.usable()
