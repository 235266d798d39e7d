"""Training the policy: SFT cold start and GRPO with the paper's reward."""
