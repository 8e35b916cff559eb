"""The README shows what the code does: its test-card table and configuration come from the code."""

from __future__ import annotations

from pathlib import Path

from tessera.processors.sandbox.cards import markdown_table
from tessera.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:800]
    assert "make run" in head and "make test" in head


def test_readme_test_card_table_is_the_sandboxs_table() -> None:
    assert markdown_table() in README


def test_readme_lists_every_configuration_variable() -> None:
    for name in Settings.model_fields:
        assert f"`TESSERA_{name.upper()}`" in README
