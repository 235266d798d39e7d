"""Adapters that let other frameworks use MR.Rec's parts (the app itself needs none of them)."""
