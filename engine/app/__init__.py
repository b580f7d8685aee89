"""The application layer: scenes and the fixed-timestep main loop, keyboard input, atomic versioned saves."""
