"""The sprite corpus: 32x32 RGBA Kenney characters and enemies in six classes (see build_corpus.py)."""
