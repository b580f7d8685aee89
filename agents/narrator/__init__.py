"""The interactive narrator: its lines (text.py) in English and Simplified Chinese."""
