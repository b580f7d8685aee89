"""The interactive narrator: story beats read from the World (beats.py) and its lines in English and Simplified
Chinese (text.py)."""
