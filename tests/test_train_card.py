"""The model card written by `train ship`: stages, numbers and the exact commands that made it."""

from __future__ import annotations

from pathlib import Path

from mrrec_chat.config import REPO_ROOT
from mrrec_lab.train.jobs import model_card

SFT = {"stage": "sft", "command": "python -m mrrec_lab.train sft --preset cpu --out-dir runs/sft3 --epochs 0.6",
       "init_adapter": None, "examples": 250, "examples_redial": 200, "examples_movielens": 50, "steps": 37,
       "lora_r": 16, "learning_rate": 3e-4, "dtype": "bf16", "profile_style": "anchored",
       "wall_seconds_training": 1800, "hardware": "2 CPU cores", "split": {"train_seekers": 43,
                                                                          "validation_seekers": 11}}
GRPO = {"stage": "grpo", "command": "python -m mrrec_lab.train grpo --preset cpu --init-adapter runs/sft3/final",
        "steps": 12, "prompts_per_step": 1, "group_size": 4, "temperature": 1.0, "learning_rate": 5e-5,
        "wall_seconds_training": 1200}
REPORT = {"n_cases": 24, "format_follow_rate": 0.9, "tool_call_rate": 1.0, "fallback_rate": 0.0, "mean_reward": 0.4,
          "mean_r_rec": 0.05, "hit_rate_at_100": 0.2, "seconds_per_case": 12.0}


def test_card_lists_each_stage_with_its_command_and_the_validation_numbers() -> None:
    card = model_card([SFT, GRPO], {**REPORT, "format_follow_rate": 0.0}, REPORT, REPO_ROOT / "runs" / "grpo" / "final",
                      ["runs/sft3", "runs/grpo"])
    assert "answer style `anchored`" in card and "**GRPO**" in card and "12 steps x 1 prompt x group 4" in card
    recipe = card.split("## Reproduce")[1].split("## Limits")[0]
    assert recipe.index(SFT["command"]) < recipe.index(GRPO["command"]) < recipe.index("train ship")
    assert "--adapter runs/grpo/final" in recipe and "--stages runs/sft3,runs/grpo" in recipe
    assert "format-follow 0%" in card and "format-follow 90%" in card and "2 CPU cores" in card
    assert "a short CPU GRPO run" in card


def test_card_without_recorded_commands_falls_back_to_the_preset(tmp_path: Path) -> None:
    card = model_card([{k: v for k, v in SFT.items() if k != "command"}], {}, {}, tmp_path / "adapter")
    assert "python -m mrrec_lab.train sft --preset cpu" in card and "no GRPO stage" in card


def test_a_card_shipped_elsewhere_says_it_is_not_loaded_by_default() -> None:
    card = model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "sft3" / "final", ["runs/sft3"],
                      target="checkpoints/smollm2-135m-mrrec-sft3")
    assert card.startswith("# smollm2-135m-mrrec-sft3") and "Not loaded by default" in card
    assert "--target checkpoints/smollm2-135m-mrrec-sft3" in card
    assert "Loaded automatically" in model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "x")


def test_the_recipe_pins_the_answer_style_so_a_new_default_cannot_change_it() -> None:
    recipe = model_card([SFT, GRPO], {}, REPORT, REPO_ROOT / "runs" / "x").split("## Reproduce")[1]
    assert SFT["command"] + " --profile-style anchored\n" in recipe
    assert "grpo --preset cpu --init-adapter runs/sft3/final\n" in recipe  # GRPO has no answer style
    given = {**SFT, "command": SFT["command"] + " --profile-style describe", "profile_style": "describe"}
    assert model_card([given], {}, REPORT, REPO_ROOT / "runs" / "x").count("--profile-style") == 1


def test_the_recipe_validates_the_shipped_weights_not_the_runs_adapter() -> None:
    """Shipping casts the LoRA to bf16, which changes greedy outputs: the card's numbers must come
    from the weights users get, so the recipe ships first, validates the shipped directory, then
    ships again with that report."""
    recipe = model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "sft3" / "final", ["runs/sft3"],
                        target="checkpoints/smollm2-135m-mrrec-sft3").split("## Reproduce")[1].split("## Limits")[0]
    first_ship = recipe.index("train ship")
    assert recipe.index("validate --adapter checkpoints/smollm2-135m-mrrec-sft3 ") > first_ship
    assert "validate --adapter runs/sft3/final" not in recipe
    assert recipe.rindex("train ship") > first_ship and "--validation-report" in recipe[recipe.rindex("train ship"):]
    default = model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "sft3" / "final", ["runs/sft3"])
    assert "validate --adapter checkpoints/smollm2-135m-mrrec " in default


def test_a_report_of_other_weights_is_flagged_on_the_card(tmp_path: Path) -> None:
    flagged = model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "x", validated_shipped=False)
    assert "format-follow 90%" in flagged and "measured on other weights than these" in flagged
    assert "measured on other weights" not in model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "x")


def test_a_validation_report_names_the_weights_it_validated(tmp_path: Path) -> None:
    import json

    from mrrec_lab.train.validate import summarize, write_report

    write_report(summarize([]), tmp_path / "with.json", "0123456789ab")
    write_report(summarize([]), tmp_path / "base.json")
    assert json.loads((tmp_path / "with.json").read_text())["adapter_fingerprint"] == "0123456789ab"
    assert "adapter_fingerprint" not in json.loads((tmp_path / "base.json").read_text())


def test_the_card_carries_redial_dev_before_and_after_from_the_evaluator() -> None:
    import doctest

    from mrrec_lab.train import jobs

    result = doctest.testmod(jobs)  # heldout_section's cases
    assert result.attempted > 0 and result.failed == 0
    section = "## ReDial dev, held-out seekers: before and after (the evaluator, one run)\n| x |\n"
    card = model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "sft3" / "final", ["runs/sft3"], heldout=section)
    assert card.index("## Validation") < card.index("## ReDial dev, held-out") < card.index("## Reproduce")
    assert "## ReDial dev" not in model_card([SFT], {}, REPORT, REPO_ROOT / "runs" / "sft3" / "final", ["runs/sft3"])
