"""The interactive narrator: story beats read from the World (beats.py), tension and pacing (pacing.py),
simulated players (players.py), the narrator's view of a run (session.py), its lines in English and Simplified
Chinese (text.py), the baselines (baselines.py), the shipped policy (policy.py) and its evaluation
(evaluate.py)."""
