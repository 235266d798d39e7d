"""Command line of the training package: `python -m mrrec_lab.train {split,trajectories,sft,grpo,validate,ship}`.

    python -m mrrec_lab.train split                     # write mrrec_lab/train/split_redial_dev.json
    python -m mrrec_lab.train trajectories              # only build/cache the SFT trajectories
    python -m mrrec_lab.train sft --preset cpu          # cold-start SFT  -> runs/sft/final
    python -m mrrec_lab.train grpo --preset cpu         # GRPO from it    -> runs/grpo/final
    python -m mrrec_lab.train validate --adapter DIR    # real loop, LocalLLM with the adapter merged
    python -m mrrec_lab.train ship --adapter DIR        # copy to checkpoints/smollm2-135m-mrrec + card

Every job field is a flag over its preset (e.g. `--max-steps 10 --validation-cases 4`); see
mrrec_lab/train/config.py. Needs ../shared/data (ReDial dev, MovieLens Latest Small) or
`--redial FILE --movielens DIR`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from mrrec_lab.train.config import GRPOJob, SFTJob, add_arguments, apply_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrrec_lab.train", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    split = commands.add_parser("split", help="split ReDial dev seekers into train/validation")
    split.add_argument("--force", action="store_true", help="overwrite an existing split file")
    add_arguments(split, SFTJob)
    prepare = commands.add_parser("trajectories", help="build and cache the SFT hindsight trajectories only")
    prepare.add_argument("--preset", default="cpu", choices=["cpu", "gpu"])
    add_arguments(prepare, SFTJob)
    for name, job_type in (("sft", SFTJob), ("grpo", GRPOJob)):
        sub = commands.add_parser(name, help=job_type.__doc__.split("\n")[0])
        sub.add_argument("--preset", default="cpu", choices=["cpu", "gpu"])
        sub.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out-dir")
        add_arguments(sub, job_type)
    check = commands.add_parser("validate", help="run the real agent loop with LocalLLM (+ adapter)")
    check.add_argument("--adapter", default="", help="LoRA adapter directory; empty = the base model")
    check.add_argument("--out", default="", help="write the report JSON here")
    add_arguments(check, SFTJob)
    ship = commands.add_parser("ship", help="copy an adapter to checkpoints/ and write its model card")
    ship.add_argument("--adapter", required=True)
    ship.add_argument("--validation-report", default="", help="JSON from `validate` (the card's final numbers)")
    ship.add_argument("--base-report", default="", help="JSON from `validate` without adapter (before)")
    ship.add_argument("--stages", default="runs/sft,runs/grpo", help="run directories that made the adapter, in order")
    ship.add_argument("--target", default="", help="directory to write (default: checkpoints/<model>-mrrec, auto-loaded)")
    ship.add_argument("--eval-results", default="", help="the evaluator's results.json with mrrec and mrrec-tuned "
                                                          "(the card's ReDial-dev before and after)")
    args = parser.parse_args(argv)
    from mrrec_lab.train import common

    common.COMMAND_LINE[:] = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")

    if args.command == "split":
        from mrrec_lab.train import jobs

        print(json.dumps(jobs.make_split(apply_arguments(SFTJob.preset("cpu"), args).data, args.force)["counts"], indent=2))
    elif args.command == "trajectories":
        from mrrec_lab.train import sft

        print(json.dumps(sft.prepare_only(apply_arguments(SFTJob.preset(args.preset), args)), indent=2))
    elif args.command == "sft":
        from mrrec_lab.train import sft

        print(json.dumps(sft.run(apply_arguments(SFTJob.preset(args.preset), args), args.resume), indent=2))
    elif args.command == "grpo":
        from mrrec_lab.train import grpo

        print(json.dumps(grpo.run(apply_arguments(GRPOJob.preset(args.preset), args), args.resume), indent=2))
    elif args.command == "validate":
        from mrrec_lab.train import jobs

        report = jobs.validate_adapter(apply_arguments(SFTJob.preset("cpu"), args), args.adapter, args.out)
        print(json.dumps(report, indent=2))
    elif args.command == "ship":
        from mrrec_lab.train import jobs

        print(jobs.ship(args.adapter, args.validation_report, args.base_report, stages=args.stages.split(","),
                        target=args.target, eval_results=args.eval_results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
