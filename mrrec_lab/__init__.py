"""The lab: evaluation, training and benchmarks of MR.Rec Chat.

It imports the product (`mrrec_chat`); the product never imports it. Its extra dependencies are
in requirements-dev.txt.
"""
