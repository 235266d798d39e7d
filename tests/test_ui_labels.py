"""What the settings panel says about the model (no server needed)."""

from __future__ import annotations

from types import SimpleNamespace

from mrrec_chat.ui.app import adapter_label


def test_the_panel_names_the_adapter_the_model_really_runs_with(tmp_path) -> None:
    assert adapter_label(None) == ""  # memory-only mode: no model
    assert adapter_label(SimpleNamespace(adapter=None)) == ""  # the backend runs without an adapter
    assert adapter_label(SimpleNamespace(adapter=str(tmp_path / "smollm2-135m-mrrec"))) == "smollm2-135m-mrrec"
    assert adapter_label(SimpleNamespace()) == ""  # a server backend: its own weights


def test_cards_cite_memory_only_where_a_memory_was_used() -> None:
    from mrrec_chat.agent.events import Recommendation
    from mrrec_chat.data.schema import Item
    from mrrec_chat.ui.render import item_cards_html

    fresh = Recommendation(Item("1", "Heat", ("Action",), 1995), 1.0, "A thriller, as you asked.", [])
    cited = Recommendation(Item("2", "Ronin", ("Action",), 1998), 0.9, "You liked Heat.", ["c:ml:u:abc123"])
    html = item_cards_html([fresh, cited])
    assert html.count('class="mr-card"') == 2
    assert html.count("Memory cited") == 1 and "none" not in html
