"""Trained NPC policies: ONNX files plus JSON cards, and the engine-side `OnnxPolicy` that runs them."""

from agents.policies.onnx_policy import POLICY_DIR, OnnxPolicy, policy_card, policy_path, trained_policies

__all__ = ["POLICY_DIR", "OnnxPolicy", "policy_card", "policy_path", "trained_policies"]
