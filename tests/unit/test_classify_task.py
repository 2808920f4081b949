"""Task, modality, family, complexity, tokens, hints and signal hygiene."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from router.classify import Classify
from router.classify.assemble import MESSAGE_OVERHEAD
from router.classify.tokens import estimate_tokens
from router.classify.types import Classification, ClassifierConfig
from router.wire import ChatRequest, ResponsesRequest

DATA = Path(__file__).resolve().parents[1] / "data" / "classify"
CODE_SAMPLES = (DATA / "code_samples.txt").read_text().split("\n=====\n")


def chat(content: Any, *, model: str = "auto", **extra: Any) -> ChatRequest:
    messages = [{"role": "user", "content": content}]
    return msgspec.convert({"model": model, "messages": messages, **extra}, ChatRequest)


def responses(input_: Any, **extra: Any) -> ResponsesRequest:
    return msgspec.convert(
        {"model": "auto", "input": input_, **extra}, ResponsesRequest
    )


def run(content: Any, classifier: Classify, **extra: Any) -> Classification:
    return classifier(chat(content, **extra))


CODE = {
    "fence": "Why does this fail?\n```\nx = 1\n```",
    "python traceback": CODE_SAMPLES[0],
    "java stack": CODE_SAMPLES[1],
    "js stack": CODE_SAMPLES[2],
    "go panic": CODE_SAMPLES[3],
    "def line": CODE_SAMPLES[4],
    "class line": CODE_SAMPLES[5],
    "function and arrow": CODE_SAMPLES[6],
    "include": CODE_SAMPLES[7],
    "sql": CODE_SAMPLES[8],
    "rust fn": CODE_SAMPLES[9],
    "imports": CODE_SAMPLES[10],
    "paths": CODE_SAMPLES[11],
    "semicolon lines": "  x = compute(a);\n  y = other(b);\n",
    "brace line": "if (ready) {\n  go()\n}",
    "error name": "I keep getting ModuleNotFoundError when I run it",
    "inline call": "What does `sorted(items, key=len)` return?",
    "write a python function": "Write a Python function that reverses a string.",
    "implement a function": "Implement a function to find the median of two arrays.",
    "regex for": "Give me a regex for UK postcodes",
    "sql query": "I need an SQL query that counts orders per customer",
    "in language": "How do I create a for loop in JavaScript?",
    "debug this code": "Debug this code: for i in range(10) print(i)",
}
GENERAL = {
    "let me know": "Let me know what you think about the plan.",
    "import duties": "What are the import duties on cars into Canada?",
    "import duties line": "import duties",
    "update my passport": "How do I update my passport after marriage?",
    "class schedule": "Can you make a class schedule for my yoga studio?",
    "function of the economy": "Unemployment is a function of the economy.",
    "select from": "Select the best option from the list below.",
    "print shop": "The print shop opens at 10 a.m.",
    "semicolon prose": "I went home; then I slept.",
    "poem then function": "Write a poem. The function of art is to move us.",
    "capital": "What is the capital of France?",
}


@pytest.mark.parametrize("name", CODE)
def test_code(name: str, classifier: Classify) -> None:
    c = run(CODE[name], classifier)
    assert c.task == "code", c.signals
    assert any(s.startswith("code:") for s in c.signals)


@pytest.mark.parametrize("name", GENERAL)
def test_english_words_alone_are_not_code(name: str, classifier: Classify) -> None:
    c = run(GENERAL[name], classifier)
    assert c.task == "general", c.signals


@pytest.mark.parametrize(
    "tool",
    [{"type": "function", "function": {"name": "run_code"}},
     {"type": "function", "function": {"name": "execute_python"}},
     {"type": "function", "function": {"name": "code_interpreter"}}],
)  # fmt: skip
def test_coding_tools_make_code(tool: dict[str, Any], classifier: Classify) -> None:
    c = run("Add 2 and 2.", classifier, tools=[tool])
    assert c.task == "code" and "code:tool" in c.signals


def test_responses_code_interpreter_tool(classifier: Classify) -> None:
    request = responses("Add 2 and 2.", tools=[{"type": "code_interpreter"}])
    assert classifier(request).task == "code"


IMAGE_PART = {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}}
AUDIO_PART = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}


def test_vision_wins_over_code(classifier: Classify) -> None:
    c = run([{"type": "text", "text": CODE["fence"]}, IMAGE_PART], classifier)
    assert (c.task, c.modality, c.family) == ("vision", "image", "gemma")
    assert "task:image_part" in c.signals


def test_responses_input_image_is_vision(classifier: Classify) -> None:
    request = responses(
        [
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "https://x.test/a.png"}
                ],
            }
        ]
    )
    c = classifier(request)
    assert (c.task, c.modality) == ("vision", "image")


@pytest.mark.parametrize(
    ("parts", "modality"),
    [([{"type": "text", "text": "hi"}], "text"), ([IMAGE_PART], "image"),
     ([AUDIO_PART], "audio"), ([IMAGE_PART, AUDIO_PART], "multi")],
)  # fmt: skip
def test_modality(
    parts: list[dict[str, Any]], modality: str, classifier: Classify
) -> None:
    assert run(parts, classifier).modality == modality


@pytest.mark.parametrize(
    "text",
    ["What is the latest news on the election?", "What's today's weather in Paris?",
     "What is the current price of bitcoin?", "Who won the game last night?",
     "What happened in the markets this week?", "Search the web for cheap flights"],
)  # fmt: skip
def test_time_bound_questions_are_web_search(text: str, classifier: Classify) -> None:
    c = run(text, classifier)
    assert c.task == "web_search", c.signals


def test_search_tools_are_web_search(classifier: Classify) -> None:
    for tool in ("web_search", "web_search_preview"):
        request = responses("Find flights to Oslo", tools=[{"type": tool}])
        assert classifier(request).task == "web_search"
    c = run("Find flights to Oslo", classifier, web_search_options={})
    assert c.task == "web_search" and "task:web_search_options" in c.signals
    tool = {"type": "function", "function": {"name": "web_search"}}
    c = run("Find flights to Oslo", classifier, tools=[tool])
    assert c.task == "web_search" and "task:web_search_tool" in c.signals


def test_precedence_code_over_web_search(classifier: Classify) -> None:
    c = run("Write a Python function that fetches today's weather", classifier)
    assert c.task == "code"


def test_not_time_bound(classifier: Classify) -> None:
    assert (
        run("I went to the gym this week and felt great.", classifier).task == "general"
    )


@pytest.mark.parametrize(
    ("model", "family", "source"),
    [("gpt-4o", "gpt", "model"), ("o1", "gpt", "model"), ("o3-mini", "gpt", "model"),
     ("o4-mini", "gpt", "model"), ("chatgpt-4o-latest", "gpt", "model"),
     ("GPT-4.1", "gpt", "model"), ("openai/gpt-4o", "gpt", "model"),
     ("claude-3-5-sonnet-20241022", "sonnet", "model"),
     ("Claude-Sonnet-4", "sonnet", "model"), ("qwen2.5-coder:7b", "qwen-coder", "model"),
     ("Qwen3-Coder-30B", "qwen-coder", "model"), ("gemma3:12b", "gemma", "model"),
     ("llama4:16x17b", "llama", "model"), ("auto", "llama", "task"),
     ("claude-3-opus", "llama", "task"), ("mistral-large", "llama", "task"),
     ("qwen2.5:7b", "llama", "task")],
)  # fmt: skip
def test_family(model: str, family: str, source: str, classifier: Classify) -> None:
    c = run("Tell me a joke.", classifier, model=model)
    assert c.family == family
    assert f"family:{source}" in c.signals


def test_family_from_task(classifier: Classify) -> None:
    assert run(CODE["def line"], classifier).family == "qwen-coder"
    assert (
        run(CODE["def line"], classifier, model="mystery-model").family == "qwen-coder"
    )
    assert run([IMAGE_PART], classifier).family == "gemma"


def test_one_line_question_is_low(classifier: Classify) -> None:
    assert run("What is the capital of France?", classifier).complexity == "low"


def test_long_request_is_high(classifier: Classify) -> None:
    text = "The committee reviewed the annual budget in detail. " * 2500
    c = run(text, classifier)
    assert c.tokens >= 16000
    assert c.complexity == "high" and "complexity:tokens" in c.signals


def test_reasoning_markers(classifier: Classify) -> None:
    assert (
        run("Prove that there are infinitely many primes.", classifier).complexity
        == "medium"
    )
    three = "Prove the bound, derive the constant, and explain step by step."
    c = run(three, classifier)
    assert c.complexity == "high"
    assert {"reasoning:prove", "reasoning:derive", "reasoning:step_by_step"} <= set(
        c.signals
    )


def test_numbered_sub_questions(classifier: Classify) -> None:
    c = run(CODE_SAMPLES[13], classifier)
    assert "reasoning:numbered" in c.signals and c.complexity == "medium"
    two = "1. first question\n2. second question"
    assert "reasoning:numbered" not in run(two, classifier).signals


def test_code_blocks_raise_complexity(classifier: Classify) -> None:
    block = "```\nx = 1\n```\n"
    assert run(block, classifier).complexity == "low"
    assert run(block * 2, classifier).complexity == "medium"
    c = run(block * 5, classifier)
    assert c.complexity == "high" and "complexity:code_blocks" in c.signals


def test_config_thresholds(classifier: Classify) -> None:
    config = ClassifierConfig(medium_tokens=5, high_tokens=10)
    request = chat("one two three four five six seven eight nine ten eleven")
    assert classifier(request, config=config).complexity == "high"


def test_token_count_includes_overhead_and_every_text(classifier: Classify) -> None:
    request = msgspec.convert(
        {"model": "auto",
         "messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "hello world"}],
         "tools": [{"type": "function",
                    "function": {"name": "lookup", "description": "Find a row."}}]},
        ChatRequest,
    )  # fmt: skip
    expected = sum(
        estimate_tokens(t)
        for t in ("Be brief.", "hello world", "lookup", "Find a row.")
    )
    assert classifier(request).tokens == expected + 3 * MESSAGE_OVERHEAD


@pytest.mark.parametrize(
    ("metadata", "header", "level", "signals"),
    [
        ({"sensitivity": "high"}, None, "high", {"hint:metadata"}),
        (None, "medium", "medium", {"hint:header"}),
        (None, "HIGH", "high", {"hint:header"}),
        ({"sensitivity": "low"}, "low", "low", {"hint:metadata", "hint:header"}),
        ({"sensitivity": "extreme"}, "nope", "low", set()),
        ({"sensitivity": 3}, "", "low", set()),
    ],
)
def test_hints_raise(
    metadata: dict[str, Any] | None,
    header: str | None,
    level: str,
    signals: set[str],
    classifier: Classify,
) -> None:
    request = chat("What is the capital of France?", metadata=metadata)
    c = classifier(request, sensitivity_hint=header)
    assert c.sensitivity == level
    assert {s for s in c.signals if s.startswith("hint:")} == signals


def test_hints_never_lower(classifier: Classify) -> None:
    request = chat("SSN 078-05-1123", metadata={"sensitivity": "low"})
    c = classifier(request, sensitivity_hint="low")
    assert c.sensitivity == "high"
    medium = classifier(chat("mail a@example.org"), sensitivity_hint="low")
    assert medium.sensitivity == "medium"


def test_signals_sorted_unique_and_deterministic(classifier: Classify) -> None:
    text = CODE_SAMPLES[14] + "\n" + CODE_SAMPLES[15] + "\n" + CODE["fence"]
    first = run(text, classifier)
    assert list(first.signals) == sorted(set(first.signals))
    assert run(text, classifier) == first
