"""Evaluation: benchmark cases, metrics, baselines and the MR.Rec systems on one catalog."""
