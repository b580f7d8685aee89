"""Quality measures for generated content, one definition each (see DESIGN.md)."""
