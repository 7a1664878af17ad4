"""Ablation sweeps: grid expansion, one vmapped program per shape group, aggregation."""
