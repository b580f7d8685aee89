"""Training data shipped with procgen, and the scripts that rebuild it from registry packages."""
