"""Smoke tests of the training package on a tiny in-test catalog: no ../shared, no model download.

A tiny random Llama and a byte-level BPE tokenizer trained here (with a ChatML template like
SmolLM2's) stand in for the policy, so these run in about a minute on a laptop CPU. They check
the contracts that matter: hindsight trajectories use the real memory search and render, loss
masks cover exactly the model's own tokens, SFTTrainer trains on them, and a GRPO step through
our `rollout_func` masks the `<memory>` observation and feeds the reward functions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from mrrec_lab.eval.cases import BenchmarkCase  # noqa: E402
from mrrec_lab.train.rollout import MemoryToolRollout, case_prompt  # noqa: E402
from mrrec_lab.train.trajectories import build_trajectory, tokenize  # noqa: E402

CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tokenizer():
    """A byte-level BPE tokenizer trained on protocol-like text, with SmolLM2's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = ["<think>They want crime movies.</think>\n<search>liked crime movies; disliked genres</search>",
              "<memory>\n[b:tiny-movies:train-c1:1] (behavior) Rated Heat (1995) 5/5 [Action, Crime].\n</memory>\n",
              '<answer>{"ideal_item_profile": "A 1990s crime thriller", "useful_memory_ids": ["p:x:y:Crime:likes"]}'
              "</answer>", "You are MR.Rec, a movies recommendation assistant. Request: a comedy please"] * 20
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                   pad_token="<|im_end|>", unk_token="<|endoftext|>")
    fast.chat_template = CHATML
    return fast


@pytest.fixture(scope="module")
def env(tmp_path_factory, tiny_dataset, embedder):
    from mrrec_chat.config import Settings
    from mrrec_chat.service import Assistant
    from mrrec_lab.train.env import MemoryEnvironment

    settings = Settings.from_env(memory_dir=str(tmp_path_factory.mktemp("train-store")))
    environment = MemoryEnvironment(Assistant(settings, dataset=tiny_dataset, embedder=embedder, load_llm=False))
    yield environment
    environment.close()


@pytest.fixture(scope="module")
def cases(tiny_dataset) -> list[BenchmarkCase]:
    def case(case_id: str, user: str, request: str, target: str) -> BenchmarkCase:
        history = [x for x in tiny_dataset.history(user) if x.item_id != target]
        return BenchmarkCase(case_id, f"seeker-{user}", request, [target], history, cold_start=not history)

    return [case("c1", "alice", "I want a tense crime movie tonight", "10"),
            case("c2", "bob", "Something funny for the family", "19"),
            case("c3", "carol", "Any good sci-fi?", "26"),
            dataclasses.replace(case("c4", "nobody", "A scary film please", "12"), memory_interactions=[],
                                cold_start=True)]


@pytest.fixture(scope="module")
def tiny_model_factory(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    def make():
        torch.manual_seed(0)
        config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                             bos_token_id=tokenizer.bos_token_id)
        return LlamaForCausalLM(config)

    return make


@pytest.fixture(scope="module")
def trajectories(env, cases):
    return [build_trajectory(env, case, random.Random(0), title_rate=0.0) for case in cases]


def test_data_docstring_examples_hold() -> None:
    import doctest

    from mrrec_lab.train import data

    assert doctest.testmod(data).failed == 0


def test_trajectory_and_grpo_docstring_examples_hold() -> None:
    import doctest

    from mrrec_lab.train import grpo, restate, trajectories

    # request_core; restate's sentence/chatter/clipping rules; GRPO batch shape (one group per CPU micro-batch)
    for module in (trajectories, restate, grpo):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0


def test_split_is_by_seeker_and_seeded(tmp_path) -> None:
    from mrrec_lab.train.data import partition, read_split, write_split

    cases = [BenchmarkCase(f"c{n}", f"seeker-{n % 5}", "a comedy", ["1"]) for n in range(20)]
    record = write_split(cases, tmp_path / "split.json", validation_fraction=0.2, seed=3)
    assert record == read_split(tmp_path / "split.json")
    train, validation = partition(cases, record)
    assert len(record["validation_seekers"]) == 1 and len(validation) == 4
    assert not {c.user_id for c in train} & {c.user_id for c in validation}
    assert write_split(cases, tmp_path / "again.json", validation_fraction=0.2, seed=3)["validation_seekers"] \
        == record["validation_seekers"]


def test_hindsight_trajectories_use_real_memory_and_mask_it(env, cases, trajectories, tokenizer) -> None:
    for case, trajectory in zip(cases, trajectories):
        (step, first_by_model), (observation, observation_by_model), (answer, last_by_model) = trajectory.segments
        assert (first_by_model, observation_by_model, last_by_model) == (True, False, True)
        assert step.startswith("<think>") and step.endswith("</search>")
        user = env.user_id(case)
        # The observation is exactly what the loop renders for those queries.
        assert observation == "\n" + env.render(env.search(user, trajectory.queries))
        body = json.loads(answer.removeprefix("<answer>").removesuffix("</answer>"))
        assert set(body["useful_memory_ids"]) <= {line.split("]")[0][1:] for line in observation.splitlines()
                                                  if line.startswith("[")}
        assert env.dataset.items[case.ground_truth[0]].title not in body["ideal_item_profile"]  # title_rate=0
        if case.cold_start:
            assert "no memory found" in observation and body["useful_memory_ids"] == []
        else:
            assert f":{user}:" in observation
        encoded = tokenize(tokenizer, trajectory)
        trained = tokenizer.decode([t for t, m in zip(encoded["input_ids"], encoded["assistant_masks"]) if m])
        assert "<search>" in trained and "<answer>" in trained and trained.endswith("<|im_end|>")
        # Observation and prompt masked (the anchored answer may restate the request itself).
        assert "<memory>" not in trained and "<|im_start|>" not in trained and "You are MR.Rec" not in trained


def _profile(trajectory) -> dict:
    return json.loads(trajectory.segments[-1][0].removeprefix("<answer>").removesuffix("</answer>"))


def test_restated_answers_copy_the_request_and_add_memory_only_when_it_helps(env, cases, trajectories) -> None:
    from mrrec_lab.train.restate import liked_or_preferred, request_queries, restate

    for case, trajectory in zip(cases, trajectories):
        answer = _profile(trajectory)
        profile, ids = answer["ideal_item_profile"], answer["useful_memory_ids"]
        # Queries come from the request alone, never from the target item.
        assert trajectory.queries == request_queries(case.request, set(env.dataset.categories))
        assert len(ids) <= 1
        observed = env.search(env.user_id(case), trajectory.queries)
        assert set(ids) <= {m.memory_id for m in observed}
        core = restate(case.request)
        assert profile.startswith(core)
        if profile != core:  # a memory was appended: it is cited and it ranks the truth clearly better
            extra = {text: m.memory_id for text, m in liked_or_preferred(observed, env.dataset.items)}
            assert profile[len(core) + 1:] in extra and ids == [extra[profile[len(core) + 1:]]]
            assert min(env.ground_truth_ranks(profile, case.ground_truth)) <= \
                0.8 * min(env.ground_truth_ranks(core, case.ground_truth))
    # With the margin at 0 nothing is ever appended; the request alone is the answer.
    from mrrec_lab.train.restate import choose_restated

    for case, trajectory in zip(cases, trajectories):
        observed = env.search(env.user_id(case), trajectory.queries)
        assert choose_restated(env, case, observed, margin=0.0) == (restate(case.request), [])


def test_a_too_short_restatement_gets_the_asked_genre_so_the_loop_accepts_it(env, cases) -> None:
    from mrrec_chat.agent.loop import usable_profile
    from mrrec_lab.train.restate import choose_restated

    short = dataclasses.replace(cases[1], request="Funny movies")
    assert not usable_profile("Funny movies")  # the loop would reject the plain restatement
    profile, _ = choose_restated(env, short, [])
    assert usable_profile(profile) and profile.startswith("Funny movies.") and "comedy" in profile.lower()


def test_unknown_profile_style_is_refused(env, cases) -> None:
    with pytest.raises(ValueError, match="restate, anchored or describe"):
        build_trajectory(env, cases[0], random.Random(0), style="anchord")


def test_anchored_answers_use_only_what_the_policy_sees_and_ground_best(env, cases) -> None:
    from mrrec_lab.train.trajectories import anchored_candidates, request_core

    anchored = [build_trajectory(env, case, random.Random(0), title_rate=0.0, style="anchored") for case in cases]
    for case, trajectory in zip(cases, anchored):
        answer = trajectory.segments[-1][0]
        profile = json.loads(answer.removeprefix("<answer>").removesuffix("</answer>"))["ideal_item_profile"]
        observed = env.search(env.user_id(case), trajectory.queries)
        candidates = [text for text, _ in anchored_candidates(case.request, observed, env)]
        assert profile in candidates  # written from the request and the observation only
        assert request_core(case.request) in profile or profile.startswith("A ")
        best = min(min(env.ground_truth_ranks(text, case.ground_truth)) for text in candidates)
        assert min(env.ground_truth_ranks(profile, case.ground_truth)) == best  # hindsight picks the best


def test_describe_style_describes_the_target(env, cases) -> None:
    case = cases[0]
    trajectory = build_trajectory(env, case, random.Random(0), title_rate=0.0, style="describe")
    profile = json.loads(trajectory.segments[-1][0].removeprefix("<answer>").removesuffix("</answer>"))
    target = env.dataset.items[case.ground_truth[0]]
    assert profile["ideal_item_profile"].startswith("A ") and target.title not in profile["ideal_item_profile"]
    assert any(g.lower() in profile["ideal_item_profile"].lower() for g in target.categories)


def test_request_core_drops_small_talk_and_titles_come_from_the_catalog(env) -> None:
    from mrrec_lab.train.trajectories import request_core, request_titles

    assert request_core("hello! how are you?\nI am good thanks\nAny crime films?") == "Any crime films?"
    assert request_core("hi") == "hi."  # nothing but small talk: keep it rather than nothing
    item = next(i for i in env.dataset.items.values() if i.year)
    assert request_titles(f"I really liked {item.display_title} last week", env) == [item.display_title]
    assert request_titles("I like 1999 (2001)", env) == []


def test_sft_trains_only_on_model_tokens(trajectories, tokenizer, tiny_model_factory, tmp_path) -> None:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from mrrec_lab.train.common import lora_config

    rows = [tokenize(tokenizer, t) for t in trajectories]
    config = SFTConfig(output_dir=str(tmp_path / "sft"), max_steps=3, per_device_train_batch_size=2,
                       learning_rate=1e-3, logging_steps=1, report_to="none", use_cpu=True, save_strategy="no",
                       activation_checkpointing=False, max_length=2048)
    trainer = SFTTrainer(model=tiny_model_factory(), args=config, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=lora_config(4, 8))
    example = trainer.train_dataset[0]
    assert example["input_ids"] == rows[0]["input_ids"]
    assert example["labels"] == [t if m else -100 for t, m in zip(rows[0]["input_ids"], rows[0]["assistant_masks"])]
    result = trainer.train()
    assert math.isfinite(result.training_loss)
    trainer.model.save_pretrained(str(tmp_path / "adapter"))
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()


class ScriptedRollout(MemoryToolRollout):
    """The real rollout logic with scripted steps instead of sampling (a random model never searches)."""

    STEPS = ["<think>They want crime.</think>\n<search>liked crime movies</search>",
             '<answer>{"ideal_item_profile": "A 1990s crime thriller", "useful_memory_ids": []}</answer>']

    def _generate(self, model, rollouts):
        return [self.tokenizer.encode(self.STEPS[min(len(r.asked), 1)], add_special_tokens=False) for r in rollouts]


def test_rollout_masks_memory_and_feeds_rewards(env, cases, tokenizer, tmp_path) -> None:
    rollout = ScriptedRollout(env, cases, tokenizer, max_rounds=2, log_path=tmp_path / "rollouts.jsonl")

    class Trainer:
        model = torch.nn.Linear(1, 1)
        state = type("State", (), {"global_step": 0})()

    out = rollout([case_prompt(env, cases[0]), case_prompt(env, cases[3])], Trainer())
    for ids, mask in zip(out["completion_ids"], out["env_mask"]):
        assert len(ids) == len(mask) and 0 in mask
        hidden = tokenizer.decode([t for t, m in zip(ids, mask) if not m])
        assert hidden.startswith("\n<memory>") and hidden.endswith("</memory>\n")
        assert "<memory>" not in tokenizer.decode([t for t, m in zip(ids, mask) if m])
    assert out["tool_calls"] == [1, 1]
    assert all(len(r) == 1 and r[0] >= 1 for r in out["ground_truth_ranks"])  # strict answer -> ranked
    logged = [json.loads(line) for line in (tmp_path / "rollouts.jsonl").read_text().splitlines()]
    assert [r["case_id"] for r in logged] == ["c1", "c4"] and "<memory>" in logged[0]["text"]


class CutAnswerRollout(MemoryToolRollout):
    """Scripted: the first step is an answer the step budget cuts mid-JSON; a continuation closes it."""

    HEAD = '<answer>{"ideal_item_profile": "A 1990s crime thriller about a heist'
    TAIL = ' gone wrong", "useful_memory_ids": []}</answer>'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.budgets: list[int | None] = []

    def _generate(self, model, rollouts, max_new_tokens=None):
        self.budgets.append(max_new_tokens)
        text = self.HEAD if max_new_tokens is None else self.TAIL
        return [self.tokenizer.encode(text, add_special_tokens=False) for _ in rollouts]


def test_rollout_continues_an_answer_the_step_budget_cut(env, cases, tokenizer) -> None:
    class Trainer:
        model = torch.nn.Linear(1, 1)
        state = type("State", (), {"global_step": 0})()

    head_tokens = len(tokenizer.encode(CutAnswerRollout.HEAD, add_special_tokens=False))
    rollout = CutAnswerRollout(env, cases, tokenizer, step_tokens=head_tokens, answer_tokens=head_tokens + 40)
    out = rollout([case_prompt(env, cases[0])], Trainer())
    assert rollout.budgets == [None, 40]  # one step, then what the answer budget leaves
    assert tokenizer.decode(out["completion_ids"][0]).endswith("</answer>")
    assert out["env_mask"][0] == [1] * len(out["completion_ids"][0])  # the continuation is the policy's own
    assert len(out["ground_truth_ranks"][0]) == 1  # the closed answer parses strictly and is ranked

    # A step that ended before its budget was not cut: nothing is continued.
    roomy = CutAnswerRollout(env, cases, tokenizer, step_tokens=head_tokens + 5, answer_tokens=head_tokens + 40)
    out = roomy([case_prompt(env, cases[0])], Trainer())
    assert roomy.budgets == [None] and out["ground_truth_ranks"] == [[]]


def test_one_grpo_step_through_trl_with_our_rollout(env, cases, tokenizer, tiny_model_factory, tmp_path) -> None:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from mrrec_lab.train.common import lora_config
    from mrrec_lab.train.grpo import r_format, r_mem, r_rec

    tokenizer.padding_side = "left"
    dataset = Dataset.from_list([{"prompt": case_prompt(env, c), "case_id": c.case_id} for c in cases[:2]])
    config = GRPOConfig(output_dir=str(tmp_path / "grpo"), max_steps=1, per_device_train_batch_size=2,
                        num_generations=2, learning_rate=1e-3, loss_type="grpo", reward_weights=[0.1, 5.0, 0.1],
                        report_to="none", use_cpu=True, save_strategy="no", activation_checkpointing=False,
                        logging_steps=1, max_completion_length=256)
    trainer = GRPOTrainer(model=tiny_model_factory(), reward_funcs=[r_format, r_rec, r_mem], args=config,
                          train_dataset=dataset, processing_class=tokenizer, peft_config=lora_config(4, 8),
                          rollout_func=ScriptedRollout(env, cases, tokenizer))
    trainer.train()
    logged = {k: v for entry in trainer.state.log_history for k, v in entry.items()}
    assert logged["rewards/r_format/mean"] == pytest.approx(1.0)
    assert logged["rewards/r_mem/mean"] == pytest.approx(1.0)
    assert logged["rewards/r_rec/mean"] > 0


def test_sampled_steps_are_cut_at_stop_strings(env, cases, tokenizer, tiny_model_factory) -> None:
    rollout = MemoryToolRollout(env, cases, tokenizer, step_tokens=12)
    started = [rollout._start(case_prompt(env, c)) for c in cases[:2]]
    model = tiny_model_factory().eval()
    steps = rollout._generate(model, started)  # a random model: junk, but never past the budget
    assert len(steps) == 2 and all(0 < len(s) <= 12 for s in steps)
    stop = tokenizer.encode("<search>x</search> trailing words", add_special_tokens=False)
    cut = tokenizer.decode(rollout._cut(stop))
    assert cut.endswith("</search>")
    ended = tokenizer.encode("<answer>{}</answer>", add_special_tokens=False) + [tokenizer.eos_token_id] * 3
    assert rollout._cut(ended)[-1] != tokenizer.eos_token_id  # stop string first, padding after it ignored
