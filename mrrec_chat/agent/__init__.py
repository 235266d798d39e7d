"""The MR.Rec agent: prompts, action parsing, the reasoning-retrieval loop."""
