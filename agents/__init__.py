"""Reinforcement learning on the game's own simulation: NPC and narrator envs, training, shipped policies."""
