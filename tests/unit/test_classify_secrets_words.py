"""Secrets people write in words or headers: "my password is X", `pw:`,
Basic credentials, session cookies, BIP-39 seed phrases and crypto private
keys, on both classifier paths; the English and code around them that only
talks about such things stays below `high`."""

from __future__ import annotations

import base64

import pytest

from router.classify import Classify, validators
from tests.conftest import classified

SEED = "legal winner thank year wave sausage worth useful legal winner thank yellow"
WIF = "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ"
XPRV = (
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6"
    "LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
)
HEX_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("my password is hunter2", "secret:password"),
        ("Your new password is sunshine99.", "secret:password"),
        ("the wifi password: correcthorse", "secret:password"),
        ("login with pw: tr0ub4dor", "secret:password"),
        ("Passcode: 482913", "secret:password"),
        ("Password: letmein42\nUser: bob", "secret:password"),
        ("Authorization: Basic " + base64.b64encode(b"bob:pw12").decode(),
         "secret:auth_header"),
        ("Authorization: Basic YW5uOng=", "secret:auth_header"),  # ann:x
        ("Cookie: theme=dark; sessionid=8f14e45fceea167a5a36dedd4bea2543",
         "secret:session_token"),
        ("Set-Cookie: PHPSESSID=el4ukv0kqbvoirg7nkp4dncpk3; path=/",
         "secret:session_token"),
        (f"my seed phrase is {SEED}", "secret:seed_phrase"),
        ("recovery phrase:\n" + "\n".join(f"{i}. {w}" for i, w in
                                          enumerate(SEED.split(), 1)),
         "secret:seed_phrase"),
        (f"import this key {WIF} into the wallet", "secret:crypto_private_key"),
        (f"extended key {XPRV}", "secret:crypto_private_key"),
        (f"private key: 0x{HEX_KEY}", "secret:crypto_private_key"),
    ],
)  # fmt: skip
def test_secrets_in_words_are_high(
    classifier: Classify, text: str, signal: str
) -> None:
    level, signals = classified(classifier, text)
    assert level == "high" and signal in signals, signals


@pytest.mark.parametrize(
    "text",
    [
        "my password is incorrect, how do I reset it?",
        "Why does it say my password is expired?",
        "the password is too short",
        "password: str = get_password()",
        "pw: ${PASSWORD}",
        "password: real_key",
        'password = "somefakekey"',
        "session = requests.Session()",
        "sessionid=<your session id>",
        "Write a poem about a seed phrase and twelve words of hope and light",
        "my seed phrase is legal winner thank year wave",  # too few words
        f"sha256 {HEX_KEY} of the release tarball",  # no key word
        "Authorization: Basic <base64 of user:password>",
    ],
)
def test_talk_about_secrets_is_not_high(classifier: Classify, text: str) -> None:
    assert classified(classifier, text)[0] != "high"


def test_the_word_list_is_bip39() -> None:
    words = validators.bip39_words()
    assert len(words) == 2048 and {"abandon", "zoo", "legal", "yellow"} <= words
