"""Policy stage: YAML policy file in, validated and compiled `Policy` out."""

from router.policy.load import (
    check_policy,
    load_policy,
    load_policy_text,
    locality_warnings,
)
from router.policy.model import Policy

__all__ = [
    "Policy",
    "check_policy",
    "load_policy",
    "load_policy_text",
    "locality_warnings",
]
