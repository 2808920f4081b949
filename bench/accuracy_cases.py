"""Generated cases for bench_accuracy.py: per kind, sentences holding one value
(several templates, the value before and after its words), checksum-failing
look-alikes of the same values, and benign texts (standard-library code and
docstrings, business text with numbers, general medical questions).

Values come from Faker (seeded) where its locale providers issue well-formed
ones (cards, IBANs, SSN/ITIN, ABA, NIR, DNI/NIE, codice fiscale, BSN, Belgian
numbers, PESEL, personnummer, HETU, SIN, CPF/CNPJ, phones, addresses, emails,
IPs, dates of birth); for the other kinds they are drawn at random until
ids.py's check accepts them (those checks are tested on their own against
published examples in tests/unit/test_classify_ids.py).
"""

from __future__ import annotations

import datetime
import inspect
import random
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from router.classify import ids  # noqa: E402

try:
    from faker import Faker
except ImportError:  # the bench extra is not installed
    Faker = None


class Kind(NamedTuple):
    name: str
    level: str
    signals: frozenset[str]
    values: Callable[[random.Random], str]
    templates: tuple[str, ...]
    checked: bool  # a look-alike with a wrong check character must not pin


def _drawn(check: Callable[[str], bool], make: Callable[[random.Random], str]):
    def values(rng: random.Random) -> str:
        while True:
            value = make(rng)
            if check(value):
                return value

    return values


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int, alphabet: str = "ABCEGHJKLMNPRSTWXYZ") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _faker(locale: str, method: str) -> Callable[[random.Random], str]:
    fake = Faker(locale) if Faker is not None else None

    def values(rng: random.Random) -> str:
        if fake is None:
            raise RuntimeError("faker is not installed (pip install -e '.[bench]')")
        fake.seed_instance(rng.randrange(1 << 30))
        return str(getattr(fake, method)())

    return values


def _nino(rng: random.Random) -> str:
    d = _digits(rng, 6)
    return f"{_letters(rng, 2)} {d[:2]} {d[2:4]} {d[4:]} {rng.choice('ABCD')}"


def _grouped(n: int, sizes: tuple[int, ...]) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        d = _digits(rng, n)
        out, at = [], 0
        for size in sizes:
            out.append(d[at : at + size])
            at += size
        return " ".join(out)

    return make


def _date6(rng: random.Random) -> str:
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}"


AFTER = ("My {kw} is {v}.", "{kw}: {v}", "Please update the {kw} to {v} in the file.",
         "here is my {kw} {v} thanks")  # fmt: skip
BEFORE = ("{v} is my {kw}.", "Use {v} as my {kw}.",
          "The number {v} (my {kw}) is on the form.")  # fmt: skip
BOTH = AFTER + BEFORE


def _id(name: str, level: str, signal: str, values: Callable[[random.Random], str],
        keywords: tuple[str, ...], checked: bool = True) -> Kind:  # fmt: skip
    templates = tuple(t.replace("{kw}", kw) for t in BOTH for kw in keywords)
    return Kind(name, level, frozenset({signal}), values, templates, checked)


def kinds() -> list[Kind]:
    return [
        _id(
            "us_ssn",
            "high",
            "pii:ssn",
            _faker("en_US", "ssn"),
            ("SSN", "social security number"),
            False,
        ),
        _id("us_itin", "high", "pii:itin", _faker("en_US", "itin"), ("ITIN",), False),
        _id(
            "uk_nino",
            "high",
            "pii:uk_nino",
            _drawn(ids.nino_ok, _nino),
            ("National Insurance number", "NI number"),
            False,
        ),
        _id(
            "uk_nhs",
            "high",
            "pii:uk_nhs",
            _drawn(ids.nhs_ok, _grouped(10, (3, 3, 4))),
            ("NHS number",),
        ),
        _id(
            "de_tax_id",
            "high",
            "pii:de_tax_id",
            _drawn(ids.steuer_id_ok, lambda r: _digits(r, 11)),
            ("Steuer-ID", "steuerliche Identifikationsnummer"),
        ),
        _id(
            "fr_nir",
            "high",
            "pii:fr_nir",
            _faker("fr_FR", "ssn"),
            ("numéro de sécurité sociale", "NIR"),
        ),
        _id("es_dni", "high", "pii:es_dni", _faker("es_ES", "nif"), ("DNI",)),
        _id("es_nie", "high", "pii:es_nie", _faker("es_ES", "nie"), ("NIE",)),
        _id(
            "it_fiscal_code",
            "high",
            "pii:it_fiscal_code",
            _faker("it_IT", "ssn"),
            ("codice fiscale",),
        ),
        _id(
            "nl_bsn",
            "high",
            "pii:nl_bsn",
            _faker("nl_NL", "ssn"),
            ("BSN", "burgerservicenummer"),
        ),
        _id(
            "be_national_number",
            "high",
            "pii:be_national_number",
            _faker("nl_BE", "ssn"),
            ("rijksregisternummer", "national number"),
        ),
        _id("pl_pesel", "high", "pii:pl_pesel", _faker("pl_PL", "pesel"), ("PESEL",)),
        _id(
            "se_personnummer",
            "high",
            "pii:se_personnummer",
            _faker("sv_SE", "ssn"),
            ("personnummer",),
        ),
        _id(
            "fi_hetu",
            "high",
            "pii:fi_hetu",
            _faker("fi_FI", "ssn"),
            ("henkilötunnus", "HETU"),
        ),
        _id(
            "dk_cpr",
            "high",
            "pii:dk_cpr",
            _drawn(ids.dk_cpr_ok, lambda r: _date6(r) + "-" + _digits(r, 4)),
            ("CPR-nummer", "CPR number"),
            False,
        ),
        _id(
            "in_aadhaar",
            "high",
            "pii:in_aadhaar",
            _drawn(ids.aadhaar_ok, _grouped(12, (4, 4, 4))),
            ("Aadhaar", "Aadhaar number"),
        ),
        _id(
            "in_pan",
            "high",
            "pii:in_pan",
            _drawn(
                ids.pan_ok,
                lambda r: (
                    _letters(r, 3)
                    + r.choice("PCHF")
                    + _letters(r, 1)
                    + _digits(r, 4)
                    + _letters(r, 1)
                ),
            ),
            ("PAN",),
            False,
        ),
        _id(
            "au_tfn",
            "high",
            "pii:au_tfn",
            _drawn(ids.au_tfn_ok, _grouped(9, (3, 3, 3))),
            ("TFN", "tax file number"),
        ),
        _id(
            "au_medicare",
            "high",
            "pii:au_medicare",
            _drawn(
                ids.au_medicare_ok,
                lambda r: (
                    r.choice("23456")
                    + _digits(r, 3)
                    + " "
                    + _digits(r, 5)
                    + " "
                    + r.choice("123456789")
                ),
            ),
            ("Medicare number",),
            False,
        ),
        _id(
            "ca_sin",
            "high",
            "pii:ca_sin",
            _faker("en_CA", "ssn"),
            ("SIN", "social insurance number"),
        ),
        _id("br_cpf", "high", "pii:br_cpf", _faker("pt_BR", "cpf"), ("CPF",)),
        _id("br_cnpj", "high", "pii:br_cnpj", _faker("pt_BR", "cnpj"), ("CNPJ",)),
        _id(
            "sg_nric",
            "high",
            "pii:sg_nric",
            _drawn(
                ids.sg_nric_ok,
                lambda r: (
                    r.choice("STFG")
                    + _digits(r, 7)
                    + _letters(r, 1, "ABCDEFGHIJKLMNPQRTUWXZ")
                ),
            ),
            ("NRIC",),
        ),
        _id(
            "kr_rrn",
            "high",
            "pii:kr_rrn",
            _drawn(
                ids.kr_rrn_ok,
                lambda r: (
                    _date6(r)[4:]
                    + _date6(r)[2:4]
                    + _date6(r)[:2]
                    + "-"
                    + r.choice("1234")
                    + _digits(r, 6)
                ),
            ),
            ("RRN", "resident registration number"),
            False,
        ),
        _id(
            "passport",
            "high",
            "pii:passport",
            lambda r: r.choice(["", "X", "C", "AB"]) + _digits(r, r.choice([7, 8, 9])),
            ("passport number", "passport"),
            False,
        ),
        _id(
            "driver_licence",
            "high",
            "pii:driver_licence",
            lambda r: r.choice("ABCDFGHS") + _digits(r, r.choice([7, 8, 12])),
            ("driver's license", "driving licence"),
            False,
        ),
        Kind(
            "credit_card",
            "high",
            frozenset({"pii:credit_card"}),
            _card,
            (
                "card {v} exp 12/29",
                "Charge {v} please.",
                "{v} is my Visa",
                "cc{v}",
                "payment card number: {v}",
            ),
            True,
        ),
        _id("iban", "high", "pii:iban", _iban, ("IBAN", "bank account")),
        _id(
            "us_routing",
            "high",
            "pii:bank_routing",
            _faker("en_US", "aba"),
            ("routing number", "ABA"),
        ),
        Kind(
            "us_account",
            "high",
            frozenset({"pii:bank_account"}),
            lambda r: _digits(r, r.choice([8, 10, 12])),
            ("account number {v}", "checking account {v}", "acct # {v}"),
            False,
        ),
        _id(
            "npi",
            "high",
            "phi:npi",
            _drawn(ids.npi_ok, lambda r: "1" + _digits(r, 9)),
            ("NPI",),
        ),
        _id(
            "dea",
            "high",
            "phi:dea_number",
            _drawn(
                ids.dea_ok, lambda r: r.choice("ABFM") + _letters(r, 1) + _digits(r, 7)
            ),
            ("DEA number",),
        ),
        Kind(
            "phi_condition",
            "high",
            frozenset({"phi:condition", "phi:diagnosis"}),
            lambda r: r.choice(CONDITIONS),
            (
                "My brother has {v}.",
                "Patient Anna Lee takes {v} twice a day.",
                "my mother was diagnosed with {v} in May",
                "Mr. Jones: {v}, stable.",
                "DOB 03/04/1961, history of {v}",
            ),
            False,
        ),
        Kind(
            "password",
            "high",
            frozenset({"secret:password", "secret:assignment"}),
            lambda r: (
                r.choice(
                    [
                        "hunter2",
                        "Sunshine99",
                        "tr0ub4dor&3",
                        "letmein42",
                        "correcthorse",
                        "P@ssw0rd!",
                        "blue-sky-77",
                    ]
                )
                + str(r.randint(0, 99))
            ),
            (
                "my password is {v}",
                "The wifi password: {v}",
                "pw: {v}",
                "Password: {v}",
                "passcode: {v}",
            ),
            False,
        ),
        Kind(
            "email",
            "medium",
            frozenset({"pii:email"}),
            _faker("en_US", "email"),
            ("mail me at {v}", "{v} is my address", "Contact: {v}."),
            False,
        ),
        Kind(
            "phone",
            "medium",
            frozenset({"pii:phone"}),
            _phone,
            (
                "call me on {v}",
                "{v} is my number",
                "Tel: {v}",
                "reach me at {v} after 6",
            ),
            False,
        ),
        Kind(
            "street_address",
            "medium",
            frozenset({"pii:street_address"}),
            _address,
            ("I live at {v}.", "Ship to {v}", "{v} is my home address"),
            False,
        ),
        Kind(
            "ip_address",
            "medium",
            frozenset({"pii:ip_address"}),
            _ip,
            ("the server is at {v}", "{v} keeps failing", "login from {v}"),
            False,
        ),
        Kind(
            "date_of_birth",
            "medium",
            frozenset({"pii:dob"}),
            _dob,
            ("DOB {v}", "date of birth: {v}", "I was born on {v}"),
            False,
        ),
    ]


CONDITIONS = ["diabetes", "type 2 diabetes", "breast cancer", "HIV", "epilepsy",
              "depression", "bipolar disorder", "metformin", "insulin", "sertraline",
              "lymphoma", "asthma", "hepatitis", "dementia", "warfarin"]  # fmt: skip
_CARD_TYPES = ["visa", "visa13", "visa19", "mastercard", "amex", "discover", "diners",
               "jcb", "jcb15", "maestro"]  # fmt: skip


def _card(rng: random.Random) -> str:
    number = _faker("en_US", "credit_card_number")(rng)
    kind = rng.random()
    if kind < 0.3 and len(number) == 16:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    if kind < 0.45 and len(number) == 16:
        return "-".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _iban(rng: random.Random) -> str:
    locale = rng.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"])
    value = _faker(locale, "iban")(rng)
    form = rng.random()
    if form < 0.3:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    if form < 0.45:
        return value.lower()
    return value


_PHONE_LOCALES = ["en_US", "en_CA", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT",
                  "nl_NL", "en_AU", "en_IN", "pt_BR"]  # fmt: skip


def _phone(rng: random.Random) -> str:
    return _faker(rng.choice(_PHONE_LOCALES), "phone_number")(rng)


def _address(rng: random.Random) -> str:
    locale = rng.choice(["en_US", "en_GB", "en_CA", "en_AU", "de_DE", "fr_FR",
                         "es_ES", "it_IT", "nl_NL", "pt_BR"])  # fmt: skip
    return _faker(locale, "address")(rng).replace("\n", ", ")


def _ip(rng: random.Random) -> str:
    return _faker("en_US", "ipv4_public" if rng.random() < 0.7 else "ipv6")(rng)


def _dob(rng: random.Random) -> str:
    born = datetime.date.fromisoformat(_faker("en_US", "date_of_birth")(rng))
    return born.strftime(rng.choice(["%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%B %d, %Y"]))


def cases(kind: Kind, n: int, seed: int) -> Iterator[tuple[str, str]]:
    """(text, value) pairs: each value in one of the kind's templates."""
    rng = random.Random(seed)
    for i in range(n):
        value = kind.values(rng)
        template = kind.templates[i % len(kind.templates)]
        yield template.format(v=value), value


def look_alike(value: str) -> str:
    """The value with its last digit or letter changed (wrong check)."""
    for i in range(len(value) - 1, -1, -1):
        c = value[i]
        if c.isdigit():
            return value[:i] + str((int(c) + 1) % 10) + value[i + 1 :]
        if c.isalpha():
            nxt = chr((ord(c.upper()) - 65 + 1) % 26 + 65)
            return value[:i] + nxt + value[i + 1 :]
    return value


# ------------------------------------------------------------------ benign


def stdlib_texts(limit: int, seed: int) -> list[str]:
    """Chunks of 40 lines of standard-library source and module docstrings."""
    rng = random.Random(seed)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py") if p.stat().st_size > 2000)
    out: list[str] = []
    for path in rng.sample(files, min(len(files), limit)):
        lines = path.read_text(errors="replace").splitlines()
        at = rng.randrange(max(1, len(lines) - 40))
        out.append("\n".join(lines[at : at + 40]))
    for module in (random, inspect, datetime, sysconfig):
        out.append(inspect.getdoc(module) or "")
    return out


def business_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)

    def hexes(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    def num(lo: int, hi: int) -> int:
        return rng.randint(lo, hi)

    forms = [
        lambda: (
            f"Invoice INV-{_digits(rng, 6)} dated 2024-0{num(1, 9)}-1{num(0, 9)}: "
            f"total EUR {num(100, 99999)}.{_digits(rng, 2)}, due in 30 days."
        ),
        lambda: (
            f"SKU {_letters(rng, 3)}-{_digits(rng, 5)} restocked: {num(1, 500)} "
            f"units, order #{_digits(rng, 9)}."
        ),
        lambda: (
            f"ISBN 978-{_digits(rng, 1)}-{_digits(rng, 3)}-{_digits(rng, 5)}-"
            f"{_digits(rng, 1)} is out of print."
        ),
        lambda: f"sha256 {hexes(64)} matches the release.",
        lambda: f"commit {hexes(40)} fixed it",
        lambda: (
            f"ts={num(1_600_000_000, 1_800_000_000)} took {num(1, 999)} ms on "
            f"port {num(1024, 65535)}"
        ),
        lambda: (
            f"see lines {num(1, 900)}-{num(901, 2000)} of main.c, build "
            f"{_digits(rng, 8)}"
        ),
        lambda: f"Tracking number {_digits(rng, 12)} shipped {num(1, 9)} boxes.",
        lambda: (
            f"Q{num(1, 4)} revenue {num(1, 999)},{_digits(rng, 3)},"
            f"{_digits(rng, 3)} up {num(1, 40)}%"
        ),
        lambda: f"uuid {hexes(8)}-{hexes(4)}-4{hexes(3)}-a{hexes(3)}-{hexes(12)}",
        lambda: (
            f"Meeting at 10:{num(10, 59)} in room {num(100, 999)}, dial-in code "
            f"{_digits(rng, 9)}."
        ),
        lambda: f"Order {_digits(rng, 10)} for customer {_digits(rng, 7)} is ready.",
    ]
    return [rng.choice(forms)() for _ in range(n)]


MEDICAL_QUESTIONS = [
    "What are the early symptoms of diabetes?", "How does metformin lower blood sugar?",
    "Is asthma more common in cities?",
    "Explain how chemotherapy targets dividing cells.",
    "What is the difference between type 1 and type 2 diabetes?",
    "Can depression cause physical pain?", "How is HIV transmitted?",
    "What does an HbA1c test measure?", "How long does insulin last once opened?",
    "Which vaccines are recommended for adults over 65?",
    "How is epilepsy diagnosed?", "What lowers the risk of heart attack?",
    "Summarise current guidance on hypertension treatment.",
    "What are the side effects of sertraline?", "How does dialysis work?",
]  # fmt: skip
