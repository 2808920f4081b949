/*
 * Card numbers: the span check (twin of checks.check_card over
 * validators.card_number_ok; the issuer ranges are validators.py's, tests
 * compare every entry) and the count of card_grouped's spans that pass it,
 * found by a twin of that pattern's `re.finditer`.
 */

#include "native.h"

#define MAX_CARD 19

typedef struct {
    int lo, hi;
    unsigned lengths; /* bit n set: length n is issued */
} CardRange;

#define L(n) (1u << (n))
#define L12_19 (L(12) | L(13) | L(14) | L(15) | L(16) | L(17) | L(18) | L(19))
#define L14_19 (L(14) | L(16) | L(17) | L(18) | L(19))
#define L16_19 (L(16) | L(17) | L(18) | L(19))

static const CardRange card_ranges[] = {
    {4, 4, L(13) | L(16) | L(19)}, {51, 55, L(16)},       {2221, 2720, L(16)},
    {34, 34, L(15)},               {37, 37, L(15)},       {300, 305, L14_19},
    {309, 309, L14_19},            {36, 36, L14_19},      {38, 39, L14_19},
    {6011, 6011, L16_19},          {644, 649, L16_19},    {65, 65, L16_19},
    {35, 35, L16_19},              {62, 62, L16_19},      {2200, 2204, L16_19},
    {50, 50, L12_19},              {56, 58, L12_19},      {60, 60, L12_19},
    {63, 63, L12_19},              {67, 67, L12_19},      {1800, 1800, L(15)},
    {2131, 2131, L(15)},           {81, 82, L16_19},      {9792, 9792, L(16)},
    {1, 1, L(15)},
};

/* The card lengths issued to numbers that start with the four digits h:
 * the `lengths` of every range whose width of leading digits h's matches
 * (the same question for every number, so asked once per h). */
static unsigned card_lengths[10000];

void
llr_init_cards(void)
{
    for (int h = 0; h < 10000; h++) {
        unsigned lengths = 0;
        for (size_t r = 0; r < sizeof(card_ranges) / sizeof(card_ranges[0]); r++) {
            const CardRange *c = &card_ranges[r];
            int scale = c->lo >= 1000 ? 1 : c->lo >= 100 ? 10 : c->lo >= 10 ? 100 : 1000;
            if (c->lo <= h / scale && h / scale <= c->hi) {
                lengths |= c->lengths;
            }
        }
        card_lengths[h] = lengths;
    }
}

/* The number the four digits at d make (d holds four digits). */
static int
head4(const Py_UCS4 *d)
{
    return (int)((d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 +
                 (d[3] - '0'));
}

/* validators.nir_shaped over 15 digits: 1, a year, a month 01-12, not 1800. */
static int
nir_shaped(const Py_UCS4 *d, Py_ssize_t n)
{
    if (n != 15 || d[0] != '1' || head4(d) == 1800) {
        return 0;
    }
    int month = (int)(d[3] - '0') * 10 + (int)(d[4] - '0');
    return month >= 1 && month <= 12;
}

/* validators.card_number_ok over `n` code points. */
static int
card_number_ok(const Py_UCS4 *d, Py_ssize_t n)
{
    if (n < 12 || n > MAX_CARD) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!IS_DIGIT(d[i])) {
            return 0;
        }
    }
    if (nir_shaped(d, n)) {
        return 0;
    }
    return (card_lengths[head4(d)] & L(n)) && llr_luhn(d, n);
}

/* Whether a run of whole groups of `s` (one separator kind between them)
 * starting with a 4-long group is a valid card number; the groups are given
 * by their starts and lengths in `s`, separators between them. */
static int
card_runs_ok(const Span *s, const Py_ssize_t *starts, const Py_ssize_t *lens,
             Py_ssize_t groups)
{
    Py_UCS4 buf[MAX_CARD];
    for (Py_ssize_t i = 0; i < groups; i++) {
        if (lens[i] != 4) {
            continue;
        }
        /* A run from group i is checked only at a length issued to its first
         * four digits; the digits are copied as the run grows. */
        int digits = 1;
        for (Py_ssize_t k = 0; k < 4; k++) {
            buf[k] = AT(s, starts[i] + k);
            digits &= IS_DIGIT(buf[k]);
        }
        unsigned issued = digits ? card_lengths[head4(buf)] : 0;
        if (!(issued & L12_19)) {
            continue;
        }
        /* buf holds group i; `next` is the first group not copied after it. */
        Py_ssize_t size = 0, filled = 4, next = i + 1;
        Py_UCS4 sep_i = i + 1 < groups ? AT(s, starts[i] + lens[i]) : 0;
        for (Py_ssize_t j = i; j < groups; j++) {
            if (j > i && AT(s, starts[j] - 1) != sep_i) {
                break;
            }
            if (size + lens[j] > MAX_CARD) {
                break;
            }
            size += lens[j];
            if (size < 12 || !(issued & L(size))) {
                continue;
            }
            for (; next <= j; next++) {
                for (Py_ssize_t k = 0; k < lens[next]; k++) {
                    buf[filled + k] = AT(s, starts[next] + k);
                }
                filled += lens[next];
            }
            if (card_number_ok(buf, size)) {
                return 1;
            }
        }
    }
    return 0;
}

/* checks.check_card: the whole span, or a run of whole groups (one separator
 * kind) starting with a 4-long group, is a valid card number; a first code
 * point that is no digit is left out. */
int
llr_check_card(const Span *whole, Py_ssize_t *starts, Py_ssize_t *lens)
{
    Span rest = *whole;
    const Span *s = whole;
    if (whole->len > 0 && !IS_DIGIT(AT(whole, 0))) {
        /* The same characters from the second on (one code point of the
         * span's kind further into its data). */
        rest.data = (const char *)whole->data + whole->kind;
        rest.len = whole->len - 1;
        s = &rest;
    }
    Py_ssize_t groups = 0, begin = 0;
    for (Py_ssize_t i = 0; i <= s->len; i++) {
        if (i == s->len || llr_is_sep(AT(s, i))) {
            starts[groups] = begin;
            lens[groups++] = i - begin;
            begin = i + 1;
        }
    }
    if (groups > 1) {
        return card_runs_ok(s, starts, lens, groups);
    }
    Py_UCS4 buf[MAX_CARD];
    if (s->len > MAX_CARD) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < s->len; i++) {
        buf[i] = AT(s, i);
    }
    return card_number_ok(buf, s->len);
}

/* ---------------------------------------------------------- card groups */

/* The spans re.finditer gives for patterns.py's card_grouped,
 *   (?:^|[^0-9])[0-9]{4}(?:[ -][0-9]{3,6}){2,4}\b   (re.ASCII),
 * found without re. A match starts where a run of exactly four digits
 * follows a character that is no digit (which the match holds) or the
 * start, and is followed by a separator. A group is a separator and a run of 3 to 6 digits; a longer or
 * shorter run ends the groups (taking fewer of its digits leaves a digit
 * next, which neither a separator nor \b accepts). Of 2 to 4 groups the
 * most are taken when a non-word character (or the end) follows them, else
 * one group fewer, which its separator follows. tests/unit/test_native_diff.py
 * holds these spans to re's. */

static int
is_word(Py_UCS4 c)
{
    return c < 128 && (IS_DIGIT(c) || (c | 0x20) - 'a' < 26u || c == '_');
}

/* How many digits in a row from `at`, counting to `most`. */
static Py_ssize_t
digits_from(const Span *t, Py_ssize_t at, Py_ssize_t most)
{
    Py_ssize_t n = 0;
    while (n < most && at + n < t->len && IS_DIGIT(AT(t, at + n))) {
        n++;
    }
    return n;
}

/* The end of the card_grouped match that starts at `s`, or -1; its digit
 * groups (starts in `t` and lengths, at most 5) and how many. */
static Py_ssize_t
card_group_at(const Span *t, Py_ssize_t s, Py_ssize_t *starts, Py_ssize_t *lens,
              Py_ssize_t *groups)
{
    if ((s > 0 && IS_DIGIT(AT(t, s - 1))) || digits_from(t, s, 5) != 4) {
        return -1;
    }
    starts[0] = s;
    lens[0] = 4;
    Py_ssize_t n = 1;
    Py_ssize_t at = s + 4;
    while (n < 5 && at < t->len && llr_is_sep(AT(t, at))) {
        Py_ssize_t k = digits_from(t, at + 1, 7);
        if (k < 3 || k > 6) {
            break;
        }
        starts[n] = at + 1;
        lens[n++] = k;
        at += 1 + k;
    }
    if (n < 3) {
        return -1;
    }
    if (at < t->len && is_word(AT(t, at))) {
        if (n == 3) {
            return -1;
        }
        n--;
    }
    *groups = n;
    return starts[n - 1] + lens[n - 1];
}

/* count_card_groups(text, limit, checked) -> int: how many card_grouped
 * spans of `text` pass check_card (every span when not `checked`), counting
 * to `limit`. */
PyObject *
llr_count_card_groups(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "count_card_groups(text: str, limit: int, checked: bool)");
        return NULL;
    }
    long long limit = PyLong_AsLongLong(args[1]);
    if (limit == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int checked = PyObject_IsTrue(args[2]);
    if (checked < 0) {
        return NULL;
    }
    PyObject *text = args[0];
    Span t = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    Py_ssize_t starts[5], lens[5], groups = 0;
    long long count = 0;
    Py_ssize_t pos = 0;
    PyThreadState *released = t.len >= LLR_NOGIL_AT ? PyEval_SaveThread() : NULL;
    while (pos < t.len && count < limit) {
        Py_ssize_t end = IS_DIGIT(AT(&t, pos))
                             ? card_group_at(&t, pos, starts, lens, &groups)
                             : -1;
        if (end < 0) {
            pos++;
            continue;
        }
        count += !checked || card_runs_ok(&t, starts, lens, groups);
        pos = end;
    }
    if (released != NULL) {
        PyEval_RestoreThread(released);
    }
    return PyLong_FromLongLong(count);
}
