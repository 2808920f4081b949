"""Classifier stage, pattern bank: every regex the classifier runs, as data.

Out: `BANK`, a tuple of `Pattern` records. The reference compiles them with
Python `re` (`RE_FLAGS`); the compiled classifier builds its hyperscan
databases from the same records (bank.py: UTF-8, multiline), and every regex
also compiles in one database with leftmost start of match (`HS_FLAG_NAMES`,
checked by a test). So every regex keeps to the common subset: no
backreferences, no lookaround, no atomic groups or possessive quantifiers, no
`\\Z`; ASCII classes only; scoped `(?i:...)` for case-insensitive parts.
Start-of-match tracking only tolerates short bounded repeats, so patterns are
locators (a prefix plus a little evidence): the check named in `validator`
reads the rest of a long token to the right, and proximity (a keyword on the
same line before a number) is declared with `near`, not written as a wide gap.

Matching semantics: the spans are those of Python `re.finditer` (leftmost,
greedy, non-overlapping, left to right). The hyperscan database answers "does
this pattern match anywhere in the text" exactly as `re` does (a test checks
it), so a compiled scan can skip every pattern the database did not report
and take spans from `re` for the rest, near the ends hyperscan reports
(located.py). A match counts when its check passes and, for `near`, when a
match of the named context pattern ends at most `window` characters before it
starts with none of `gap_stop` in between; a signal fires when at least
`min_count` matches count.

`gate` is for the compiled scan only: a regex that every match of the
pattern contains (tests/unit/test_classify_bank.py checks it on every match
it sees). The hyperscan databases look for the gate instead of the pattern,
which is looked for on its own only when the gate is present. That pays
only when the gate is rare in real text: a pattern scanned on its own for
every end costs more than inside the shared database (bench/README.md).

`marker` is for the compiled scan only too: a part of `regex` that every
match holds (regex is some prefix, the marker and some suffix, a
concatenation of three regexes, the marker never empty; a test checks), so a
match of the marker ends inside every match of the pattern, after its start
and no later than its end. The scan databases report every end of the marker
instead of the pattern's, and `re` finds the pattern's own matches around
them (located.py). It pays where the pattern has many ends or a costly
start: email's local part, up to 41 characters before the `@`, was tracked
at every byte, and a SQL `FROM` reported an end for every character of the
table name after it. And it keeps from hyperscan what it gets wrong: with
`^[ \t]{0,16}` before a keyword (def, class, fn lines), the hyperscan 0.9.1
databases miss a line that opens with exactly one blank after a line of 16
characters or more (a test builds every pattern's own matches into such
texts), so those patterns' markers start at the keyword and `re` checks the
line start. The same databases, once the national-ID patterns joined the
bank, missed `]  ;` at a line's end after a line of 16 characters; so
semicolon_line_end is looked for by its `;` (it is counted in C anyway).
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

Group = Literal["high", "medium", "context", "code", "reasoning", "time", "tool"]
# How the compiled classifier counts a pattern: "re" from its matches (the
# reference's way); "lines" by the C line counter (`count_lines`, shape
# `shape`: one match at most per line); "card_groups" by the C counter of
# grouped card numbers (`count_card_groups`). Either C way is linear whatever
# the count, so such a pattern is not capped.
Counting = Literal["re", "lines", "card_groups"]


class Pattern(NamedTuple):
    id: int
    name: str
    regex: str
    group: Group
    validator: str | None = None
    signal: str = ""
    near: str | None = None
    window: int = 0
    gap_stop: str = "\n"
    min_count: int = 1
    gate: str | None = None
    marker: str | None = None
    counting: Counting = "re"
    shape: int = -1
    # Every match counts, not only up to `min_count` (the fence count feeds
    # complexity), and the pattern is counted even when its signal fired.
    every: bool = False


SENSITIVE_GROUPS: Final = frozenset({"high", "medium"})


def needs_positions(pattern: Pattern) -> bool:
    """Whether counting the pattern means looking at its matches: anything
    but a presence-only pattern (one that counts 1 when it matches at all)."""
    return (
        pattern.validator is not None
        or pattern.near is not None
        or pattern.min_count > 1
        or pattern.gate is not None
        or pattern.marker is not None
        or pattern.every
    )


def is_capped(pattern: Pattern) -> bool:
    """Whether the candidate caps bound the pattern (`scanner.CHECK_CAP`,
    `REQUEST_CAP`): a validated or `near` one of the sensitive groups,
    unless a C counter counts it."""
    return (
        pattern.group in SENSITIVE_GROUPS
        and (pattern.validator is not None or pattern.near is not None)
        and pattern.counting == "re"
    )


RE_FLAGS: Final = re.ASCII | re.MULTILINE
# hyperscan.HS_FLAG_UTF8 | HS_FLAG_MULTILINE | HS_FLAG_SOM_LEFTMOST, spelled
# as names so this module does not import hyperscan.
HS_FLAG_NAMES: Final = ("HS_FLAG_UTF8", "HS_FLAG_MULTILINE", "HS_FLAG_SOM_LEFTMOST")

_SECRET_KEYS = (
    "(?i:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey"
    "|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|creds"
    "|_pass|\\bpass)"
)
_MONTH = "(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\\.?"
_DATE = (
    "(?:[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    f"|{_MONTH}[ \\t]{{1,2}}[0-9]{{1,2}}(?:st|nd|rd|th)?,?[ \\t]{{1,2}}[0-9]{{4}}"
    f"|[0-9]{{1,2}}(?:st|nd|rd|th)?[ \\t]{{1,2}}{_MONTH},?[ \\t]{{1,2}}[0-9]{{4}})"
)
_LANGS = (
    "(?i:python|java|javascript|typescript|c\\+\\+|c#|rust|golang|go|ruby|php"
    "|kotlin|swift|scala|haskell|perl|bash|shell|powershell|sql|html|css|react"
    "|node\\.js|matlab|julia|lua|dart|elixir|fortran|cobol|verilog)"
)

_SECRETS = (
    Pattern(100, "aws_access_key_id",
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA"
            r"|APKA)[A-Z0-9]{16}\b", "high", "token", "secret:aws_access_key"),
    Pattern(101, "aws_secret_access_key",
            r"(?i:aws)[A-Za-z0-9_.-]{0,20}(?i:secret|access)[A-Za-z0-9_.-]{0,20}"
            r"[\"']?[ \t]{0,4}(?::=|=>|=|:)[ \t]{0,4}[\"'`]?[A-Za-z0-9/+]",
            "high", "aws_secret", "secret:aws_secret_key"),
    Pattern(102, "aws_bedrock_key",
            r"\bABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{60}", "high", "token",
            "secret:aws_bedrock_key"),
    Pattern(103, "aws_bedrock_short_key",
            r"\bbedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", "high", None,
            "secret:aws_bedrock_key"),
    Pattern(104, "github_token", r"\bgh[pousr]_[A-Za-z0-9]{30}", "high", "token",
            "secret:github_token"),
    Pattern(105, "github_pat", r"\bgithub_pat_[A-Za-z0-9_]{22}", "high", "token",
            "secret:github_token"),
    Pattern(106, "gitlab_token",
            r"\b(?:glpat|glptt|glrt|gldt|glft|glffct|glimt|glagent|gloas|glsoat|glcbt"
            r"|glsa|gloat|glcit|glrtr)-[A-Za-z0-9_.-]{20}", "high", "token",
            "secret:gitlab_token"),
    Pattern(107, "gitlab_runner_registration", r"\bGR1348941[A-Za-z0-9_-]{20}",
            "high", "token", "secret:gitlab_token"),
    Pattern(108, "gitlab_session", r"_gitlab_session=[0-9a-z]{32}", "high", None,
            "secret:gitlab_token"),
    Pattern(109, "slack_token",
            r"\bxox[abposre]-(?:[0-9]{1,2}-)?[0-9]{6,16}-[A-Za-z0-9-]{6}", "high",
            "token", "secret:slack_token"),
    Pattern(110, "slack_workspace_token", r"\bxox[ar]-(?:[0-9]-)?[A-Za-z0-9]{8}",
            "high", "token_mixed", "secret:slack_token"),
    Pattern(111, "slack_config_token", r"\bxoxe(?:\.xox[bp])?-[0-9]-[A-Za-z0-9]{30}",
            "high", "token_mixed", "secret:slack_token"),
    Pattern(112, "slack_app_token",
            r"\bxapp-[0-9]-[A-Za-z0-9]{6,16}-[0-9]{6,16}-[A-Za-z0-9]{20}", "high",
            "token", "secret:slack_token"),
    Pattern(113, "slack_webhook",
            r"\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20}",
            "high", None, "secret:slack_webhook"),
    Pattern(114, "openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20}",
            "high", "openai", "secret:openai_key"),
    Pattern(115, "anthropic_key", r"\bsk-ant-[a-z]{2,6}[0-9]{2}-[A-Za-z0-9_-]{40}",
            "high", "anthropic", "secret:anthropic_key"),
    Pattern(116, "google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", "high", "token",
            "secret:google_api_key"),
    Pattern(117, "gcp_service_account",
            r"\"type\"[ \t]{0,4}:[ \t]{0,4}\"service_account\"", "high", None,
            "secret:gcp_service_account"),
    Pattern(118, "stripe_key", r"\b(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10}",
            "high", "token", "secret:stripe_key"),
    Pattern(119, "jwt", r"\beyJ[A-Za-z0-9_-]{8}", "high", "jwt", "secret:jwt"),
    Pattern(120, "private_key",
            r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----", "high", None,
            "secret:private_key"),
    Pattern(121, "putty_private_key", r"PuTTY-User-Key-File-[0-9]:", "high", None,
            "secret:private_key"),
    Pattern(122, "huggingface_token", r"\b(?:hf|api_org)_[A-Za-z]{34}\b", "high",
            "token", "secret:huggingface_token"),
    Pattern(123, "npm_token", r"\bnpm_[A-Za-z0-9]{36}", "high", "token",
            "secret:npm_token"),
    Pattern(124, "pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{40}", "high", "token",
            "secret:pypi_token"),
    Pattern(125, "sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_=-]{20}",
            "high", "token", "secret:sendgrid_key"),
    Pattern(126, "twilio_key", r"\b(?:SK|AC)[0-9a-fA-F]{32}\b", "high", "token",
            "secret:twilio_key"),
    Pattern(127, "azure_client_secret",
            r"(?:^|[^A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
            "high", "token_mixed", "secret:azure_secret"),
    Pattern(128, "azure_storage_key", r"(?i:AccountKey)=[A-Za-z0-9+/]{40}", "high",
            None, "secret:azure_secret"),
    Pattern(129, "perplexity_key", r"\bpplx-[A-Za-z0-9]{40}", "high", "token",
            "secret:perplexity_key"),
    Pattern(130, "secret_assignment",
            _SECRET_KEYS + r"[A-Za-z0-9_.-]{0,32}(?:[\"'\]]{0,2}[ \t]{0,4}"
            r"(?::=|=>|===|!==|==|!=|=|:|,)[ \t]{0,4}[^ \t\n]|[ \t]{1,4}[\"'`]"
            r"|[ \t]{1,4}(?i:is|was)[ \t]{1,4}[^ \t\n])", "high", "assignment",
            "secret:assignment"),
    Pattern(131, "secret_comparison",
            r"[\"'`][^\"'`\n]{4,64}[\"'`][ \t]{0,4}(?:===|!==|==|!=)[ \t]{0,4}"
            r"[A-Za-z0-9_.]{0,32}" + _SECRET_KEYS, "high", "reversed_assignment",
            "secret:assignment"),
    Pattern(132, "url_credentials", r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://", "high",
            "url_credentials", "secret:url_credentials"),
    Pattern(133, "cli_user", r"(?:[ \t]-u|--user)[ \t=]{1,4}", "high", "cli_user",
            "secret:cli_credentials"),
    Pattern(134, "auth_header",
            r"(?i:authorization|x-api-key|api-token)[\"']?[ \t]{0,4}[:=][ \t]{0,4}",
            "high", "auth_header", "secret:auth_header"),
    Pattern(135, "npm_auth_token", r"_authToken=[ \t]{0,4}[A-Za-z0-9_-]{8}", "high",
            "token", "secret:npm_token"),
    Pattern(136, "provider_token",
            r"\b(?:sgp_|ntn_|hvs\.|hvb\.|sntry[su]_|glsa_|glc_|fo1_|HRKU-|ops_eyJ"
            r"|dop_v1_|shp(?:at|ss|ca)_|lin_api_|PMAK-|ATATT3|sq0(?:csp|atp)-"
            r"|AGE-SECRET-KEY-1)[A-Za-z0-9_=.-]{20}", "high", "token_mixed",
            "secret:provider_token"),
    Pattern(137, "telegram_bot_token", r"\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}", "high",
            "token", "secret:provider_token"),
    Pattern(138, "discord_bot_token",
            r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}",
            "high", "token_mixed", "secret:provider_token"),
    Pattern(140, "password_phrase",
            r"\b(?i:my|the|our|your|his|her|their|new|wifi|wi-fi|admin|root|login"
            r"|email|bank|account)[ \t]{1,2}(?i:password|passcode|passphrase|passwd"
            r"|pass code|pin|pw|pwd)(?:[ \t]{1,2}(?i:is|was|will be|would be)"
            r"|[ \t]{0,2}[:=])[ \t]{0,2}", "high", "password_phrase",
            "secret:password"),
    Pattern(141, "password_label",
            r"(?:^[ \t]{0,4}(?i:password|passwd|passcode|passphrase)|\b(?i:pw|pwd"
            r"|passcode|pin))[ \t]{0,2}:[ \t]{0,2}", "high", "password_phrase",
            "secret:password"),
    Pattern(142, "session_cookie",
            r"(?:\b|_)(?i:phpsessid|jsessionid|aspsessionid[a-z]{0,8}"
            r"|asp\.net_sessionid|sessionid|session_?id|session-id|sessid"
            r"|connect\.sid|session|session_?token|laravel_session|remember_token"
            r"|refresh_token|access_token|auth_token|csrftoken|xsrf-token"
            r"|__host-[a-z_-]{1,20}|__secure-[a-z_-]{1,20})[\"']?[ \t]{0,2}[=:]"
            r"[ \t]{0,2}", "high", "cookie", "secret:session_token"),
    Pattern(143, "seed_phrase",
            r"\b(?i:seed[ \t]?phrase|seed words|recovery phrase|recovery words"
            r"|mnemonic(?: phrase)?|backup phrase|wallet words|wallet phrase"
            r"|(?:12|24|twelve|twenty-four) words)\b", "high", "seed_phrase",
            "secret:seed_phrase"),
    Pattern(144, "crypto_wif_key",
            r"\b(?:5[HJK]|[KL][1-9A-HJ-NP-Za-km-z]|[xtyz]prv)[1-9A-HJ-NP-Za-km-z]{20}",
            "high", "crypto_key", "secret:crypto_private_key"),
    Pattern(145, "crypto_hex_key", r"\b(?:0x)?[0-9a-fA-F]{32}", "high", "hex_key",
            "secret:crypto_private_key", near="private_key_keyword", window=32),
    Pattern(146, "private_key_keyword",
            r"\b(?i:private[ _-]?key|priv[ _-]?key|secret[ _-]?key|wallet key"
            r"|signing key)", "context"),
    Pattern(139, "cohere_key", r"\b(?i:co_api_key|cohere_api_token)[\"']?[ \t]{0,4}"
            r"[:=][ \t]{0,4}[\"']?[A-Za-z0-9]{40}\b", "high", "token",
            "secret:cohere_key"),
)  # fmt: skip

# In place of `\b` before a number: no digit before it, so a number glued to
# its keyword (`ssn_078-05-1120`, `cc4111111111111111`) is found; the match
# then holds that one character, which the checks skip.
_GLUED = r"(?:^|[^0-9])"

# Conditions, diagnoses and medications: `high` only beside a person
# (`person_ref`) in the same sentence.
_CONDITIONS = (
    "(?:HIV|AIDS|COPD|PTSD|ADHD|(?i:diabetes|diabetic|cancer|leukemia|leukaemia"
    "|lymphoma|melanoma|tumou?r|hepatitis|tuberculosis|epilepsy|asthma|dementia"
    "|alzheimer'?s"
    "|parkinson'?s|multiple sclerosis|schizophrenia|bipolar(?: disorder)?"
    "|depression|anxiety disorder|autism|anorexia|bulimia|addiction"
    "|alcoholism|hypertension|heart failure|heart attack|stroke|arrhythmia"
    "|kidney disease|renal failure|cirrhosis|crohn'?s|colitis|lupus|arthritis"
    "|psoriasis|herpes|chlamydia|gonorrh(?:o)?ea|syphilis|covid(?:-19)?|pneumonia"
    "|sickle cell|cystic fibrosis|hemophilia|haemophilia|infertility|miscarriage"
    "|pregnan(?:t|cy)|osteoporosis|migraine|insomnia|obesity|thyroid|hypothyroidism"
    "|chemotherapy|chemo|radiotherapy|dialysis|insulin|metformin|lisinopril"
    "|atorvastatin|levothyroxine|sertraline|fluoxetine|prozac|zoloft|xanax"
    "|alprazolam|methadone|oxycodone|adderall|ritalin|antidepressants?"
    "|antiretrovirals?|warfarin|prednisone|gabapentin|opioids?))"
)

_PII_HIGH = (
    Pattern(200, "ssn_separated",
            _GLUED + r"[0-9]{3}(?:-[0-9]{2}-| [0-9]{2} |\.[0-9]{2}\.)[0-9]{4}\b",
            "high", "ssn", "pii:ssn"),
    Pattern(201, "ssn_keyword_digits", _GLUED + r"[0-9]{9}\b", "high", "ssn",
            "pii:ssn", near="ssn_keyword", window=24),
    Pattern(202, "itin_separated",
            r"\b9[0-9]{2}(?:-[0-9]{2}-| [0-9]{2} |\.[0-9]{2}\.)[0-9]{4}\b", "high",
            "itin", "pii:itin"),
    Pattern(203, "itin_keyword_digits", r"\b9[0-9]{8}\b", "high", "itin",
            "pii:itin", near="itin_keyword", window=24),
    Pattern(204, "passport_number", r"\b[A-Z]{0,2}[0-9]{6,9}\b", "high", None,
            "pii:passport", near="passport_keyword", window=32),
    Pattern(205, "card_compact", _GLUED + r"[0-9]{12,19}\b", "high", "card",
            "pii:credit_card"),
    Pattern(206, "card_grouped", _GLUED + r"[0-9]{4}(?:[ -][0-9]{3,6}){2,4}\b",
            "high", "card", "pii:credit_card", counting="card_groups"),
    Pattern(207, "iban_compact", r"\b[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]{11,30}\b",
            "high", "iban", "pii:iban"),
    Pattern(208, "iban_grouped",
            r"\b[A-Za-z]{2}[0-9]{2}(?:[ -][A-Za-z0-9]{1,11}){2,9}\b", "high", "iban",
            "pii:iban"),
    Pattern(300, "medical_record_number",
            r"\b[A-Z]{0,4}-?[0-9][0-9-]{3,14}[0-9]\b", "high", "medical_id",
            "phi:medical_record", near="mrn_keyword", window=24),
    Pattern(301, "health_plan_id", r"\b[A-Z]{0,4}[0-9][A-Z0-9-]{4,19}\b", "high",
            "medical_id", "phi:health_plan_id", near="health_plan_keyword",
            window=24),
    Pattern(302, "medicare_mbi",
            r"\b[1-9][AC-HJKMNP-RT-Yac-hjkmnp-rt-y][AC-HJKMNP-RT-Yac-hjkmnp-rt-y0-9]"
            r"[0-9]-?[AC-HJKMNP-RT-Yac-hjkmnp-rt-y][AC-HJKMNP-RT-Yac-hjkmnp-rt-y0-9]"
            r"[0-9]-?[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]{2}[0-9]{2}\b", "high", None,
            "phi:medicare_id"),
    Pattern(303, "diagnosis_code", r"\b[A-TV-Z][0-9]{2}\.[0-9A-TV-Z]{1,4}\b", "high",
            None, "phi:diagnosis", near="person_marker", window=120),
    Pattern(304, "diagnosis_word", r"\b(?i:diagnos(?:is|ed|es)|dx)\b", "high", None,
            "phi:diagnosis", near="person_marker", window=80),
    Pattern(305, "condition_word", r"\b" + _CONDITIONS + r"\b", "high", None,
            "phi:condition", near="person_ref", window=80, gap_stop="\n.!?;"),
    Pattern(306, "diagnosis_of_person", r"\b(?i:diagnos(?:is|ed|es)|dx)\b", "high",
            None, "phi:diagnosis", near="person_ref", window=60,
            gap_stop="\n.!?;"),
)  # fmt: skip

# A number written before its keyword: a few blanks, one punctuation mark and
# up to three short words ("123456782 is my TFN", "123456782 (BSN)").
_BEFORE_KEYWORD = (
    r"[ \t]{0,2}(?:[(\[,:;-][ \t]{0,2})?(?:(?i:is|was|are|my|our|his|her|their"
    r"|your|the|a|an|as|of|for)[ \t]{1,2}){0,3}"
)


def _run(n: int) -> str:
    """`n` digits, single blanks, dots or dashes allowed between them."""
    return rf"\b[0-9](?:[ .-]?[0-9]){{{n - 1}}}\b"


def _keyed(
    at: int, name: str, number: str, signal: str, keywords: str, window: int = 32
) -> tuple[Pattern, Pattern, Pattern]:
    """A number that counts only next to its keyword, either side of it: the
    keyword context (`at + 300`), the number after it (`near`) and the number
    before it (one regex, looked for by its keyword: a digit-led automaton
    would be live all through a run of digits). The check is the id kind
    `name`."""
    keyword = f"(?i:{keywords})"
    return (
        Pattern(at + 300, f"{name}_keyword", rf"\b{keyword}", "context"),
        Pattern(at, name, number, "high", name, signal, near=f"{name}_keyword",
                window=window),
        Pattern(at + 1, f"{name}_before_keyword",
                number + _BEFORE_KEYWORD + keyword + r"\b", "high", name, signal,
                marker=keyword),
    )  # fmt: skip


_KEYED_IDS = (
    *_keyed(220, "nhs", _run(10), "pii:uk_nhs", "nhs"),
    *_keyed(222, "steuer_id", _run(11), "pii:de_tax_id",
            "steuer-?id|steuer-?identifikationsnummer|steuerliche"
            " identifikationsnummer|identifikationsnummer|idnr|tax id"),
    *_keyed(224, "bsn", _run(9), "pii:nl_bsn",
            "bsn|burgerservicenummer|sofinummer|citizen service number"),
    *_keyed(226, "be_nrn", _run(11), "pii:be_national_number",
            "rijksregisternummer|registre national|national register number"
            "|national number|insz|niss"),
    *_keyed(228, "pesel", _run(11), "pii:pl_pesel", "pesel"),
    *_keyed(230, "personnummer", r"\b(?:[0-9]{2})?[0-9]{6}[-+ ]?[0-9]{4}\b",
            "pii:se_personnummer",
            "personnummer|personnr|samordningsnummer|personal identity number"),
    *_keyed(232, "dk_cpr", r"\b[0-9]{6}[- ]?[0-9]{4}\b", "pii:dk_cpr",
            "cpr|cpr-nummer|cpr-nr|cpr number"),
    *_keyed(234, "aadhaar", r"\b[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}\b",
            "pii:in_aadhaar", "aadhaar|aadhar|adhaar|uidai|uid"),
    *_keyed(236, "au_tfn", r"\b[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{2,3}\b", "pii:au_tfn",
            "tfn|tax file number"),
    *_keyed(238, "au_medicare",
            r"\b[2-6][0-9]{3}[ -]?[0-9]{5}[ -]?[0-9](?:[ /-]?[0-9])?\b",
            "pii:au_medicare", "medicare"),
    *_keyed(240, "ca_sin", r"\b[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}\b", "pii:ca_sin",
            "sin|social insurance number|numero d'assurance sociale|nas"),
    *_keyed(242, "cpf", _run(11), "pii:br_cpf", "cpf"),
    *_keyed(244, "cnpj", _run(14), "pii:br_cnpj", "cnpj"),
    *_keyed(246, "kr_rrn", _run(13), "pii:kr_rrn",
            "rrn|resident registration number|jumin"),
    *_keyed(248, "aba", _run(9), "pii:bank_routing",
            "aba|routing|routing number|rtn|routing transit number|transit number"
            "|wire routing", window=40),
    *_keyed(254, "npi", _run(10), "phi:npi",
            "npi|national provider identifier|provider id"),
    *_keyed(256, "dea", r"\b[A-Za-z][A-Za-z9][ -]?[0-9]{7}\b", "phi:dea_number",
            "dea|dea number|dea registration|dea no"),
)  # fmt: skip

_ACCOUNT_WORDS = (
    "account (?:number|no|#)|acct|a/c no|checking account|savings account"
    "|bank account|kontonummer|rekeningnummer"
)
_BANK_DETAILS = (
    Pattern(250, "bank_account", r"\b[0-9]{2}[0-9 -]{4,15}[0-9]\b", "high",
            "account", "pii:bank_account", near="account_keyword", window=24),
    Pattern(251, "uk_sort_code_account",
            r"\b[0-9]{2}-[0-9]{2}-[0-9]{2}[ \t,;/]{1,3}(?:(?i:account|acc|a/c)"
            r"(?i:[ \t]{1,2}(?:number|no\.?))?[ \t:#]{1,3})?[0-9]{8}\b", "high", None,
            "pii:bank_account"),
    Pattern(252, "uk_sort_code", r"\b[0-9]{2}[- ]?[0-9]{2}[- ]?[0-9]{2}\b", "high",
            None, "pii:bank_account", near="sort_code_keyword", window=16),
    Pattern(581, "account_keyword", f"\\b(?i:{_ACCOUNT_WORDS})\\b", "context"),
    Pattern(582, "sort_code_keyword", r"\b(?i:sort[ -]?code)\b", "context"),
)  # fmt: skip

_FORMATTED_IDS = (
    Pattern(260, "nino",
            r"\b[A-Z]{2}[ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?[A-D]\b", "high",
            "nino", "pii:uk_nino"),
    Pattern(261, "nir",
            r"\b[12][ ]?[0-9]{2}[ ]?[0-9]{2}[ ]?(?:[0-9]{2}|2[ABab])[ ]?[0-9]{3}[ ]?"
            r"[0-9]{3}[ ]?[0-9]{2}\b", "high", "nir", "pii:fr_nir"),
    Pattern(262, "dni", r"\b[0-9]{8}[ -]?[A-Za-z]\b", "high", "dni", "pii:es_dni"),
    Pattern(263, "nie", r"\b[XYZxyz][ -]?[0-9]{7}[ -]?[A-Za-z]\b", "high", "nie",
            "pii:es_nie"),
    Pattern(264, "codice_fiscale",
            r"\b[A-Za-z]{6}[0-9LMNP-Vlmnp-v]{2}[A-Za-z][0-9LMNP-Vlmnp-v]{2}[A-Za-z]"
            r"[0-9LMNP-Vlmnp-v]{3}[A-Za-z]\b", "high", "codice_fiscale",
            "pii:it_fiscal_code"),
    Pattern(265, "be_nrn_formatted",
            r"\b[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}\b", "high", "be_nrn",
            "pii:be_national_number"),
    Pattern(266, "personnummer_formatted", r"\b(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}\b",
            "high", "personnummer", "pii:se_personnummer"),
    Pattern(267, "hetu", r"\b[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Ya-y]\b", "high",
            "hetu", "pii:fi_hetu"),
    Pattern(268, "pan", r"\b[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]\b", "high", "pan",
            "pii:in_pan"),
    Pattern(269, "cpf_formatted", r"\b[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}\b",
            "high", "cpf", "pii:br_cpf"),
    Pattern(270, "cnpj_formatted",
            r"\b[0-9]{2}\.[0-9]{3}\.[0-9]{3}/[0-9]{4}-[0-9]{2}\b", "high", "cnpj",
            "pii:br_cnpj"),
    Pattern(271, "sg_nric", r"\b[STFGstfg][0-9]{7}[A-Za-z]\b", "high", "sg_nric",
            "pii:sg_nric"),
    Pattern(272, "kr_rrn_formatted", r"\b[0-9]{6}-[1-8][0-9]{6}\b", "high", "kr_rrn",
            "pii:kr_rrn"),
)  # fmt: skip

_LICENCE_WORDS = (
    "driver'?s?'?[ \\t]{0,2}licen[cs]e|driving[ \\t]{0,2}licen[cs]e|dl|dln"
    "|f(?:u|ue)hrerschein|permis de conduire"
)
_DOCUMENTS = (
    Pattern(280, "passport_before_keyword",
            r"\b[A-Z]{0,2}[0-9]{6,9}\b" + _BEFORE_KEYWORD + r"(?i:passport)s?\b",
            "high", None, "pii:passport", marker="(?i:passport)"),
    Pattern(281, "driver_licence", r"\b[A-Za-z]{0,5}[0-9][A-Za-z0-9-]{4,16}\b",
            "high", "medical_id", "pii:driver_licence", near="licence_keyword",
            window=32),
    Pattern(282, "driver_licence_before_keyword",
            r"\b[A-Za-z]{0,5}[0-9][A-Za-z0-9-]{4,16}\b" + _BEFORE_KEYWORD
            + f"(?i:{_LICENCE_WORDS})" + r"\b", "high", "medical_id",
            "pii:driver_licence", gate=f"(?i:{_LICENCE_WORDS})"),
    Pattern(580, "licence_keyword", f"\\b(?i:{_LICENCE_WORDS})\\b", "context"),
)  # fmt: skip


_PII_MEDIUM = (
    Pattern(400, "email",
            r"\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,40}@[A-Za-z0-9][A-Za-z0-9-]{0,40}"
            r"\.[A-Za-z0-9.-]{2,40}", "medium", "email", "pii:email",
            marker=r"@[A-Za-z0-9][A-Za-z0-9-]{0,40}\."),
    Pattern(401, "phone_us",
            r"(?:\+1[ .-]?|\b1[ .-])?(?:\([2-9][0-9]{2}\)[ ]?|\b[2-9][0-9]{2}[ .-])"
            r"[2-9][0-9]{2}[ .-][0-9]{4}(?:[ ]?(?i:x|ext\.?)[ ]?[0-9]{1,6})?\b",
            "medium", None, "pii:phone"),
    Pattern(402, "phone_international",
            r"\+[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,5}\)?){1,5}", "medium",
            "phone_intl", "pii:phone"),
    Pattern(407, "phone_national",
            r"(?:\(0?[1-9][0-9]{0,3}\)[ ]?|\b0[1-9][0-9]{0,3}[ ./-])[1-9][0-9]{2,4}"
            r"[ .-]?[0-9]{3,4}(?:[ .-]?[0-9]{1,4})?\b", "medium", "phone_intl",
            "pii:phone"),
    Pattern(408, "phone_fr", r"\b0[1-9](?:[ .-][0-9]{2}){4}\b", "medium", None,
            "pii:phone"),
    Pattern(409, "phone_keyword_digits",
            r"(?:\b[0-9]|\()[0-9 ().-]{7,16}[0-9]\b", "medium", "phone_intl",
            "pii:phone", near="phone_keyword", window=24),
    Pattern(410, "street_address_eu",
            r"\b[A-Z][a-z]{2,30}(?:stra(?:ss|.)e|str\.|weg|gasse|platz|allee|ring"
            r"|damm|straat|laan|plein|gracht|kade|dijk|singel|gade|vej|v.gen"
            r"|gatan)[ \t]{1,2}[0-9]{1,4}[a-z]?\b"
            r"|\b[0-9]{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]{1,2}(?i:rue|avenue|boulevard"
            r"|bd|impasse|all.e|chemin|quai|cours)[ \t]{1,2}(?:(?:de|du|des|la|le|d')"
            r"[ \t]{1,2}){0,2}[A-Z]"
            r"|\b(?i:calle|c/|avenida|avda\.|paseo|carrer|via|viale|piazza|corso"
            r"|largo|rua|travessa)[ \t]{1,2}(?:(?:de|del|la|di|della|dos|das|do|da)"
            r"[ \t]{1,2}){0,2}(?:[A-Z][A-Za-z'-]{1,20}[ \t]{1,2}){1,3},?[ \t]{0,2}"
            r"(?:n[.o]{0,2}[ \t]?)?[0-9]{1,4}\b"
            r"|\b[A-Z][A-Za-z]{1,20}[ \t]{1,2}(?:Road|Marg|Nagar)[ \t]{1,2}[0-9]{1,4}\b"
            r"|\b[0-9]{1,5},[ \t]{1,2}(?:[A-Z][A-Za-z]{0,20}[ \t]{1,2}){1,3}"
            r"(?i:road|marg|nagar|street|lane)\b", "medium", None,
            "pii:street_address"),
    Pattern(412, "postal_tail",
            r",[ \t]{1,2}(?:[A-Z][a-z]{1,20}[ \t]){0,2}[A-Z][a-z]{1,20},?[ \t]{1,2}"
            r"[A-Z]{2,3},?[ \t]{1,2}(?:[0-9]{5}(?:-[0-9]{4})?|[A-Z][0-9][A-Z][ ]?"
            r"[0-9][A-Z][0-9]|[0-9]{4})\b"
            r"|,[ \t]{1,2}(?:[0-9]{5}|[0-9]{4}[ ]?[A-Z]{2}|[0-9]{5}-[0-9]{3}|[0-9]{8})"
            r",?[ \t]{1,2}[A-Z][^\n,.;:!?]{2,30}"
            r"|,[ \t]{1,2}[A-Z]{1,2}[0-9][A-Z0-9]?[ \t][0-9][A-Z]{2}\b"
            r"|,[ \t]{1,2}[A-Z][^\n,.;:!?0-9]{2,30},[ \t]{1,2}[0-9]{5}\b", "medium",
            None, "pii:street_address"),
    Pattern(413, "phone_before_keyword",
            r"(?:\b[0-9]|\+)[0-9 ().-]{7,16}[0-9]\b" + _BEFORE_KEYWORD
            + r"(?i:phone|mobile|cell|number|cellphone|landline|whatsapp)\b", "medium",
            "phone_intl", "pii:phone"),
    Pattern(411, "postcode_city",
            r"\b[A-Z]{1,2}[0-9][A-Z0-9]?[ \t][0-9][A-Z]{2}\b"
            r"|\b[A-Z][0-9][A-Z][ \t][0-9][A-Z][0-9]\b"
            r"|\b[0-9]{4}[ \t]?[A-Z]{2}[ \t]{1,2}[A-Z][a-z]{2,20}\b", "medium", None,
            "pii:street_address"),
    Pattern(403, "ipv4", r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b",
            "medium", "ipv4", "pii:ip_address"),
    Pattern(404, "ipv6",
            r"(?:^|[^0-9A-Za-z_:.])(?:[0-9A-Fa-f]{1,4})?:[0-9A-Fa-f.]{0,4}:"
            r"[0-9A-Fa-f:.]{0,40}", "medium", "ipv6", "pii:ip_address",
            gate=r":[0-9A-Fa-f.]{0,4}:"),
    Pattern(405, "street_address",
            r"\b[0-9]{1,6}[A-Za-z]?[ \t]{1,2}(?:[NSEW]\.?[ \t]{1,2})?"
            r"(?:(?:[A-Z][a-z]{1,20}|[0-9]{1,3}(?:st|nd|rd|th))[ \t]{1,2}){1,4}"
            r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr"
            r"|court|ct|place|pl|terrace|way|parkway|pkwy|highway|hwy|circle|close"
            r"|crescent|cres|gardens|grove|row|square|sq|mews|hill|walk|green"
            r"|parade|esplanade)\b",
            "medium", None, "pii:street_address"),
    Pattern(406, "date_of_birth",
            r"\b(?i:dob|d\.o\.b\.?|date of birth|birth ?date|born on|birthday)"
            r"[^A-Za-z0-9\n]{0,6}(?:(?i:is|was)[ \t]{1,3})?" + _DATE, "medium", "date",
            "pii:dob"),
)  # fmt: skip

_CONTEXTS = (
    Pattern(500, "ssn_keyword",
            r"\b(?i:ssn|ss#|social security(?: number| no\.?| #)?)", "context"),
    Pattern(501, "itin_keyword",
            r"\b(?i:itin|individual taxpayer identification(?: number)?)", "context"),
    Pattern(502, "passport_keyword", r"\b(?i:passports?|travel document)\b",
            "context"),
    Pattern(503, "mrn_keyword", r"\b(?i:mrn|medical record(?: number| no\.?| #)?)",
            "context"),
    Pattern(504, "health_plan_keyword",
            r"\b(?i:member|subscriber|beneficiary|insurance|health plan|medicaid"
            r"|policy holder)[ \t]{1,2}(?i:id|number|no\.?|#)", "context"),
    Pattern(505, "person_marker",
            r"\b(?i:patient|pt)\b:?[ \t]{1,3}[A-Z][a-z]{1,20}"
            r"|\b(?:Mr|Mrs|Ms|Miss)\.?[ \t]{1,3}[A-Z][a-z]{1,20}"
            r"|\b(?i:dob|date of birth|d\.o\.b)\b", "context"),
    Pattern(510, "phone_keyword",
            r"\b(?i:call|phone|tel|telephone|mobile|cell|cellphone|whatsapp|text me"
            r"|reach me|fax|ph|mob|handy|telefon|telefono|telefoon|numero|contact"
            r"|chiama|chiamami|cellulare|llama|llamame|movil|appelle|appelez|portable"
            r"|anrufen|ruf|bel|bellen|ligue|ligar|celular)\b",
            "context"),
    Pattern(509, "person_ref",
            r"\b(?i:my|his|her|our|their)[ \t]{1,2}(?i:brother|sister|mother|mom|mum"
            r"|father|dad|son|daughter|wife|husband|partner|friend|grandmother"
            r"|grandfather|grandma|grandpa|aunt|uncle|cousin|child|kid|baby"
            r"|boyfriend|girlfriend|fiance|fiancee|colleague|coworker|boss|neighbou?r"
            r"|patient|client|niece|nephew|parents?|children|kids)\b"
            r"|\b(?i:patient|pt)\b:?[ \t]{1,3}[A-Z][a-z]{1,20}"
            r"|\b(?:Mr|Mrs|Ms|Miss|Dr)\.?[ \t]{1,3}[A-Z][a-z]{1,20}"
            r"|\b(?i:dob|date of birth|d\.o\.b)\b"
            r"|\bI(?:'m|'ve been| am| was| have been)[ \t]{1,2}(?i:diagnosed|treated"
            r"|prescribed|admitted)"
            r"|\b[A-Z][a-z]{1,20}(?:[ \t][A-Z][a-z]{1,20})?[ \t]{1,2}(?i:was|has been"
            r"|got|had been)[ \t]{1,2}(?i:diagnosed|admitted|prescribed|treated"
            r"|hospitali[sz]ed)", "context"),
    Pattern(506, "code_verb",
            r"\b(?i:write|implement|develop|create|code|build|generate|fix|debug"
            r"|refactor|optimi[sz]e|complete|review|rewrite|port|translate|convert)\b",
            "context"),
    Pattern(507, "sql_select", r"\bSELECT\b", "context"),
    Pattern(508, "news_subject",
            r"\b(?i:news|score|scores|weather|price|prices|stocks?|match|game|election"
            r"|results?|headlines|forecast|won|happened|released|announced|trending)\b",
            "context"),
)  # fmt: skip

_CODE = (
    Pattern(600, "code_fence", r"^[ \t]{0,3}(?:```|~~~)", "code", None, "code:fence",
            counting="lines", shape=0, every=True),
    Pattern(601, "python_traceback", r"Traceback \(most recent call last\)", "code",
            None, "code:stack_trace"),
    Pattern(602, "python_frame", r"^[ \t]{1,8}File \"[^\"\n]{1,60}\", line [0-9]",
            "code", None, "code:stack_trace"),
    Pattern(603, "java_frame",
            r"^[ \t]{1,8}at [A-Za-z_$][A-Za-z0-9_$.<>]{0,60}\([A-Za-z0-9_]{1,60}"
            r"\.(?:java|kt|scala|groovy):[0-9]", "code", None, "code:stack_trace"),
    Pattern(604, "js_frame",
            r"[A-Za-z0-9_]\.(?:js|mjs|cjs|ts|jsx|tsx):[0-9]{1,6}:[0-9]{1,6}\)",
            "code", None, "code:stack_trace"),
    Pattern(605, "go_panic", r"^(?:goroutine [0-9]{1,8} \[|panic: runtime error)",
            "code", None, "code:stack_trace"),
    Pattern(606, "def_line",
            r"^[ \t]{0,16}(?:async[ \t]{1,4})?def[ \t]{1,4}[A-Za-z_][A-Za-z0-9_]{0,60}"
            r"[ \t]{0,2}\(", "code", None, "code:definition",
            marker=r"def[ \t]{1,4}[A-Za-z_]"),
    Pattern(607, "class_line",
            r"^[ \t]{0,16}class[ \t]{1,4}[A-Z][A-Za-z0-9_]{0,60}[ \t]{0,2}[:({]",
            "code", None, "code:definition", marker=r"class[ \t]{1,4}[A-Z]"),
    Pattern(608, "function_decl",
            r"\bfunction(?:[ \t]{1,4}[A-Za-z_$][A-Za-z0-9_$]{0,40})?[ \t]{0,2}\("
            r"[A-Za-z0-9_$, \t]{0,40}\)[ \t]{0,2}\{", "code", None, "code:definition"),
    Pattern(609, "fn_decl",
            r"^[ \t]{0,16}(?:pub[ \t]{1,4})?(?:fn|func)[ \t]{1,4}[A-Za-z_]"
            r"[A-Za-z0-9_]{0,60}[ \t]{0,2}[<(]", "code", None, "code:definition",
            marker=r"(?:fn|func)[ \t]{1,4}[A-Za-z_]"),
    Pattern(610, "arrow_function", r"\)[ \t]{0,2}=>[ \t]{0,2}[{(A-Za-z0-9_]", "code",
            None, "code:syntax"),
    Pattern(611, "brace_line_end", r"[)A-Za-z0-9_=>][ \t]{0,2}\{[ \t]{0,2}$", "code",
            None, "code:syntax"),
    Pattern(612, "semicolon_line_end",
            r"[)\]'\"][ \t]{0,2};[ \t]{0,2}$", "code", None, "code:syntax",
            min_count=2, marker=";", counting="lines", shape=2),
    Pattern(613, "import_line",
            r"^[ \t]{0,8}(?:from[ \t]{1,4}[A-Za-z_.][A-Za-z0-9_.]{0,60}[ \t]{1,4}import"
            r"[ \t]{1,4}[A-Za-z_*(]|import[ \t]{1,4}[A-Za-z_][A-Za-z0-9_]{0,40}"
            r"(?:\.[A-Za-z_]|[ \t]{1,4}as[ \t]{1,4}[A-Za-z_]|;)|import[ \t]{1,4}\{"
            r"|#include[ \t]{0,4}[<\"]|using[ \t]{1,4}namespace[ \t]"
            r"|package[ \t]{1,4}[a-z][a-z0-9_.]{0,60};)", "code", None,
            "code:import"),
    Pattern(614, "sql_from", r"\bFROM[ \t\n]{1,4}[A-Za-z_][A-Za-z0-9_.]{0,60}",
            "code", None, "code:sql", near="sql_select", window=200, gap_stop=";",
            marker=r"\bFROM[ \t\n]{1,4}[A-Za-z_]"),
    Pattern(615, "sql_statement",
            r"\b(?:INSERT INTO|CREATE TABLE|DELETE FROM|ALTER TABLE|DROP TABLE)"
            r"[ \t]{1,4}[A-Za-z_`\"]|\b(?i:select[ \t]{1,4}\*[ \t]{1,4}from)\b",
            "code", None, "code:sql"),
    Pattern(616, "code_path",
            r"\b[A-Za-z0-9_][A-Za-z0-9_-]{1,40}\.(?:py|js|mjs|ts|tsx|jsx|rs|go|java"
            r"|kt|c|h|cc|cpp|hpp|cs|rb|php|swift|scala|sh|bash|zsh|ps1|sql|lua|pl"
            r"|dart|vue|svelte|ipynb|gradle|tf)\b", "code", None, "code:path"),
    Pattern(617, "build_file", r"\b(?:Dockerfile|Makefile|CMakeLists\.txt|"
            r"package\.json|Cargo\.toml|pyproject\.toml|go\.mod)\b", "code", None,
            "code:path"),
    Pattern(618, "error_name", r"\b(?:[A-Z][a-z]{1,20}){1,4}(?:Error|Exception)\b",
            "code", None, "code:error"),
    Pattern(619, "inline_call", r"`[A-Za-z_][A-Za-z0-9_.]{0,60}\([^`\n]{0,40}\)`",
            "code", None, "code:inline"),
    Pattern(620, "print_call",
            r"\b(?:console\.log|System\.out\.print(?:ln)?|printf|println!|print"
            r"|fmt\.Print(?:ln|f)?|puts)\(", "code", None, "code:syntax"),
    Pattern(621, "code_noun",
            r"\b(?i:function|method|program|code|snippet|regex|regexp|regular"
            r" expression|algorithm|unit tests?|api|endpoint|compiler|parser"
            r"|interpreter|data structure|linked list|binary(?: search)? tree)\b",
            "code", None, "code:request", near="code_verb", window=40,
            gap_stop="\n.?!"),
    Pattern(622, "language_noun",
            r"\b" + _LANGS + r"[ \t]{1,3}(?i:function|method|class|script|program"
            r"|code|snippet|module|library|implementation|query|one-liner|decorator"
            r"|generator|loop|lambda|regex|app|application|test|tests|api|server"
            r"|client|command|statement)s?\b", "code", None, "code:request"),
    Pattern(623, "in_language",
            r"\b(?i:in|using|with)[ \t]{1,3}(?i:python|javascript|typescript|c\+\+"
            r"|c#|rust|golang|ruby|php|kotlin|swift|scala|haskell|perl|bash"
            r"|powershell|html|css|sql|java)(?:[^A-Za-z0-9+#]|$)", "code", None,
            "code:request", gate=r"[ \t](?i:python|javascript|typescript|c\+\+|c#"
            r"|rust|golang|ruby|php|kotlin|swift|scala|haskell|perl|bash|powershell"
            r"|html|css|sql|java)"),
    Pattern(624, "regex_request",
            r"\b(?i:regex|regexp|regular expression)[ \t]{1,3}(?i:for|to|that|which"
            r"|matching)\b|\b(?i:sql)[ \t]{1,3}(?i:query|queries|statement)",
            "code", None, "code:request"),
)  # fmt: skip

_REASONING = (
    Pattern(700, "step_by_step", r"\b(?i:step[- ]by[- ]step)\b", "reasoning", None,
            "reasoning:step_by_step"),
    Pattern(701, "prove", r"\b(?i:prove|proof|show that|demonstrate that)\b",
            "reasoning", None, "reasoning:prove"),
    Pattern(702, "derive", r"\b(?i:derive|derivation)\b", "reasoning", None,
            "reasoning:derive"),
    Pattern(703, "trade_offs",
            r"\b(?i:trade-?offs?|pros and cons|compare and contrast|analy[sz]e)\b",
            "reasoning", None, "reasoning:trade_offs"),
    Pattern(704, "multi_step",
            r"\b(?i:multi-?step|in (?:several|multiple) steps|chain of thought"
            r"|think carefully)\b", "reasoning", None, "reasoning:multi_step"),
    Pattern(705, "numbered_item", r"^[ \t]{0,4}[0-9]{1,2}[.)][ \t]", "reasoning",
            None, "reasoning:numbered", min_count=3, gate=r"[0-9][.)][ \t]",
            counting="lines", shape=1),
    Pattern(706, "design_system",
            r"\b(?i:design|architect)\b[^\n.]{0,8}\b(?i:system|architecture|pipeline"
            r"|protocol|schema|workflow)\b", "reasoning", None, "reasoning:design"),
)  # fmt: skip

_TIME = (
    Pattern(800, "latest_news",
            r"\b(?i:latest|breaking|recent|today'?s)[ \t]{1,2}(?i:news|headlines"
            r"|scores?|results|weather|forecast|price|prices|version|release"
            r"|update|updates|events)\b", "time", None, "time:latest"),
    Pattern(801, "current_value",
            r"\b(?i:current|live|real-time|up-to-date)[ \t]{1,2}(?i:price|prices"
            r"|stock price|exchange rate|weather|score|scores|standings|news"
            r"|events|version|status)\b", "time", None, "time:current"),
    Pattern(802, "time_phrase",
            r"\b(?i:this week|last night|tonight|today|yesterday|right now"
            r"|this morning)\b", "time", None, "time:recent", near="news_subject",
            window=40, gap_stop="\n.?!"),
    Pattern(803, "search_request",
            r"\b(?i:search (?:the web|online|the internet)|look (?:it )?up online"
            r"|as of today)\b", "time", None, "time:search"),
)  # fmt: skip

_TOOLS = (
    Pattern(900, "code_tool_name",
            r"^(?i:(?:run|exec|execute|eval)_?(?:code|python|py|js|javascript|shell"
            r"|bash|script|sql)|code_?interpreter|python|bash|shell|terminal"
            r"|jupyter)$", "tool", None, "code:tool"),
    Pattern(901, "search_tool_name",
            r"^(?i:web_?search(?:_preview)?|search_?(?:the_)?(?:web|internet|online)"
            r"|internet_search|google_search|bing_search|browse_web)$", "tool", None,
            "task:web_search_tool"),
)  # fmt: skip

BANK: Final[tuple[Pattern, ...]] = (
    *_SECRETS,
    *_PII_HIGH,
    *_KEYED_IDS,
    *_FORMATTED_IDS,
    *_DOCUMENTS,
    *_BANK_DETAILS,
    *_PII_MEDIUM,
    *_CONTEXTS,
    *_CODE,
    *_REASONING,
    *_TIME,
    *_TOOLS,
)

BY_NAME: Final = {p.name: p for p in BANK}
