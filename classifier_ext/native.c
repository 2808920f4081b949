/*
 * router.classify._native: the classifier's per-request hot path in C.
 *
 * Each function is the twin of a pure-Python function in router/classify/
 * (the specification); tests/unit/test_native_diff.py and
 * tests/unit/test_classify_diff.py prove they agree on every input they are
 * given. No undefined behaviour: `make sanitize` builds with
 * -fsanitize=address,undefined and runs the differential tests.
 *
 * This file holds the module, the token estimate and the Luhn check; see
 * native.h for the others.
 */

#include "native.h"
#include "body.h"

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Luhn checksum                       twin of validators.luhn_ok
 * ------------------------------------------------------------------------ */

int
llr_luhn(const Py_UCS4 *digits, Py_ssize_t n)
{
    int sum = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = digits[n - 1 - i];
        if (ch < '0' || ch > '9') {
            return 0;
        }
        int d = (int)(ch - '0');
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
    }
    return sum % 10 == 0;
}

static PyObject *
native_luhn_ok(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "luhn_ok() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    if (n < 12 || n > 19) {
        Py_RETURN_FALSE;
    }
    Py_UCS4 digits[19];
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    for (Py_ssize_t i = 0; i < n; i++) {
        digits[i] = PyUnicode_READ(kind, data, i);
    }
    return PyBool_FromLong(llr_luhn(digits, n));
}

/* ------------------------------------------------------------------------
 * Token estimate                      twin of tokens.estimate_tokens
 *
 * One pass over code points; runs of one class add units (100 per token).
 * The constants and the order of the class tests are those of tokens.py.
 * ------------------------------------------------------------------------ */

enum { C_NONE = -1, C_SPACE, C_DIGIT, C_CJK, C_WORD, C_PUNCT, C_SYMBOL };

static const Py_UCS4 cjk_ranges[][2] = {
    {0x1100, 0x11FF},  {0x3040, 0x309F}, {0x30A0, 0x30FF}, {0x3130, 0x318F},
    {0x31F0, 0x31FF},  {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA960, 0xA97F},
    {0xAC00, 0xD7AF},  {0xD7B0, 0xD7FF}, {0xF900, 0xFAFF}, {0xFF66, 0xFF9F},
    {0x20000, 0x323AF},
};

static int
is_cjk(Py_UCS4 c)
{
    if (c < 0x1100) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(cjk_ranges) / sizeof(cjk_ranges[0]); i++) {
        if (c < cjk_ranges[i][0]) {
            return 0;
        }
        if (c <= cjk_ranges[i][1]) {
            return 1;
        }
    }
    return 0;
}

static int
char_class(Py_UCS4 c)
{
    if (Py_UNICODE_ISSPACE(c)) {
        return C_SPACE;
    }
    if (Py_UNICODE_ISDIGIT(c)) {
        return C_DIGIT;
    }
    if (is_cjk(c)) {
        return C_CJK;
    }
    if (Py_UNICODE_ISALPHA(c)) {
        return C_WORD;
    }
    return c < 128 ? C_PUNCT : C_SYMBOL;
}

static signed char ascii_class[128];

static long long
run_units(int cls, long long n, long long non_ascii, int nxt)
{
    switch (cls) {
    case C_WORD: {
        long long ascii_letters = n - non_ascii;
        long long extra = ascii_letters > 9 ? (ascii_letters - 9) * 30 : 0;
        return 110 + extra + 10 * non_ascii;
    }
    case C_DIGIT:
        return 100 * ((n + 2) / 3);
    case C_CJK:
        return 70 * n;
    case C_PUNCT:
        return 85 * (nxt == C_WORD ? n - 1 : n);
    case C_SYMBOL:
        return 125 * n;
    default: {
        long long before_digit = nxt == C_DIGIT ? 100 : 0;
        return n == 1 ? before_digit : 100 + before_digit;
    }
    }
}

/* One loop per storage kind, so the compiler sees the element type. */
#define ESTIMATE_LOOP(TYPE)                                                  \
    do {                                                                     \
        const TYPE *p = (const TYPE *)PyUnicode_DATA(text);                  \
        for (Py_ssize_t i = 0; i < len; i++) {                               \
            Py_UCS4 c = p[i];                                                \
            int k = c < 128 ? ascii_class[c] : char_class(c);                \
            if (k != cls) {                                                  \
                if (cls != C_NONE) {                                         \
                    units += run_units(cls, n, non_ascii, k);                \
                }                                                            \
                cls = k;                                                     \
                n = 0;                                                       \
                non_ascii = 0;                                               \
            }                                                                \
            n++;                                                             \
            non_ascii += c >= 128 && k == C_WORD;                            \
        }                                                                    \
    } while (0)

/* ASCII text, 64 characters at a time. Every ASCII character is a letter
 * (WORD), a digit, a space or PUNCT (none is CJK or SYMBOL), and run_units
 * can be paid per character from where it sits in its run:
 *   WORD   110 on a run's first letter, 30 on each from the tenth on;
 *   DIGIT  100 on the first of every three digits of a run;
 *   PUNCT  85 each, less 85 for a WORD right after PUNCT;
 *   SPACE  100 on a run's second space; a DIGIT right after SPACE adds 100.
 * So a block's units come off four bit masks (bit i: character i is of the
 * class) shifted against the block before: "the character before is a
 * space" is (S << 1) | (previous S >> 63). Only digit runs are walked, as
 * runs (their count depends on the run's length). The masks are built with
 * SSE2 where the compiler has it (every x86-64), else from ascii_class.
 * tests/unit/test_native_diff.py holds this equal to tokens.estimate_tokens. */
typedef struct {
    uint64_t word, digit, space, punct;
} Masks;

/* Inlined into each build of estimate_ascii below, so the POPCNT one counts
 * with the instruction. */
#if defined(__GNUC__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE static inline
#endif

/* X shifted k characters later, the block before filling the low bits. */
#define LATER(x, before, k) (((x) << (k)) | ((before) >> (64 - (k))))

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __m128i
in_range(__m128i x, char lo, char hi)
{
    return _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)(lo - 1))),
                         _mm_cmplt_epi8(x, _mm_set1_epi8((char)(hi + 1))));
}

static inline Masks
masks64(const Py_UCS1 *p)
{
    Masks m = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i letter = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
        __m128i space = _mm_or_si128(in_range(x, 9, 13), in_range(x, 28, 32));
        m.word |= (uint64_t)(unsigned)_mm_movemask_epi8(letter) << (16 * k);
        m.digit |= (uint64_t)(unsigned)_mm_movemask_epi8(in_range(x, '0', '9')) << (16 * k);
        m.space |= (uint64_t)(unsigned)_mm_movemask_epi8(space) << (16 * k);
    }
    m.punct = ~(m.word | m.digit | m.space);
    return m;
}
#else
static inline Masks
masks64(const Py_UCS1 *p)
{
    Masks m = {0, 0, 0, 0};
    for (int i = 0; i < 64; i++) {
        int k = ascii_class[p[i]];
        m.word |= (uint64_t)(k == C_WORD) << i;
        m.digit |= (uint64_t)(k == C_DIGIT) << i;
        m.space |= (uint64_t)(k == C_SPACE) << i;
    }
    m.punct = ~(m.word | m.digit | m.space);
    return m;
}
#endif

#if defined(__GNUC__)
ALWAYS_INLINE int
count64(uint64_t x)
{
    return __builtin_popcountll(x);
}

static inline int
low_zeros(uint64_t x) /* x != 0 */
{
    return __builtin_ctzll(x);
}
#else
ALWAYS_INLINE int
count64(uint64_t x)
{
    int n = 0;
    for (; x; x &= x - 1) {
        n++;
    }
    return n;
}

static inline int
low_zeros(uint64_t x) /* x != 0 */
{
    int n = 0;
    for (; !(x & 1); x >>= 1) {
        n++;
    }
    return n;
}
#endif

/* 100 per first of three digits of each digit run in the block; `phase` is
 * how many digits (mod 3) of the run the block starts in came before it. */
static long long
digit_units(uint64_t digits, uint64_t digit_before, int *phase)
{
    long long units = 0;
    int carried = (int)(digit_before >> 63) ? *phase : 0;
    while (digits) {
        int at = low_zeros(digits);
        uint64_t rest = ~(digits >> at);
        int len = rest ? low_zeros(rest) : 64;
        int before = at == 0 ? carried : 0;
        int first = (3 - before) % 3;
        if (len > first) {
            units += 100 * (1 + (len - 1 - first) / 3);
        }
        if (at + len == 64) {
            *phase = (before + len) % 3;
            break;
        }
        digits &= ~0ULL << (at + len);
    }
    return units;
}

ALWAYS_INLINE long long
block_units(Masks m, Masks before, int *phase)
{
    uint64_t w = m.word, wb = before.word;
    uint64_t tenth = w;
    for (int k = 1; k <= 9; k++) {
        tenth &= LATER(w, wb, k);
    }
    uint64_t space_before = LATER(m.space, before.space, 1);
    uint64_t second_space =
        m.space & space_before & ~LATER(m.space, before.space, 2);
    return 110LL * count64(w & ~LATER(w, wb, 1)) + 30LL * count64(tenth) +
           85LL * (count64(m.punct) - count64(w & LATER(m.punct, before.punct, 1))) +
           100LL * count64(second_space | (m.digit & space_before)) +
           digit_units(m.digit, before.digit, phase);
}

/* With gcc on x86-64 and glibc (the choice is an ifunc, which musl and
 * Mach-O lack), a second build of the loop for CPUs with POPCNT, chosen once
 * at load, as the baseline has no popcount instruction. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
__attribute__((target_clones("popcnt", "default")))
#endif
static long long
estimate_ascii(const Py_UCS1 *p, Py_ssize_t len)
{
    long long units = 0;
    Masks before = {0, 0, 0, 0};
    int phase = 0;
    Py_ssize_t i = 0;
    for (; i + 64 <= len; i += 64) {
        Masks m = masks64(p + i);
        units += block_units(m, before, &phase);
        before = m;
    }
    if (i < len) {
        Py_UCS1 last[64] = {0};
        memcpy(last, p + i, (size_t)(len - i));
        Masks m = masks64(last);
        uint64_t valid = ~0ULL >> (64 - (len - i));
        m.word &= valid;
        m.digit &= valid;
        m.space &= valid;
        m.punct &= valid;
        units += block_units(m, before, &phase);
    }
    return units;
}

long long
llr_estimate_tokens(PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "estimate_tokens() expects a str");
        return -1;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (len == 0) {
        return 0;
    }
    long long units = 0, n = 0, non_ascii = 0;
    int cls = C_NONE;
    if (PyUnicode_IS_ASCII(text)) {
        units = estimate_ascii(PyUnicode_1BYTE_DATA(text), len);
        long long tokens = (units + 50) / 100;
        return tokens < 1 ? 1 : tokens;
    }
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        ESTIMATE_LOOP(Py_UCS1);
        break;
    case PyUnicode_2BYTE_KIND:
        ESTIMATE_LOOP(Py_UCS2);
        break;
    default:
        ESTIMATE_LOOP(Py_UCS4);
        break;
    }
    units += run_units(cls, n, non_ascii, C_NONE);
    long long tokens = (units + 50) / 100;
    return tokens < 1 ? 1 : tokens;
}

static PyObject *
native_estimate_tokens(PyObject *module, PyObject *arg)
{
    (void)module;
    long long tokens = llr_estimate_tokens(arg);
    return tokens < 0 ? NULL : PyLong_FromLongLong(tokens);
}

/* ------------------------------------------------------------------------
 * Module
 * ------------------------------------------------------------------------ */

static PyMethodDef native_methods[] = {
    {"estimate_tokens", native_estimate_tokens, METH_O,
     "estimate_tokens(text: str) -> int\n\nLight BPE token estimate."},
    {"luhn_ok", native_luhn_ok, METH_O,
     "luhn_ok(digits: str) -> bool\n\nLuhn check of 12..19 ASCII digits."},
    {"gather", (PyCFunction)(void (*)(void))llr_gather, METH_FASTCALL,
     "gather(request, chat: bool) -> (task, tokens, items, flags, tool_names)"
     "\n\nTask texts and facts of a decoded request (twin of "
     "_reference.gather)."},
    {"read_body", llr_read_body, METH_O,
     "read_body(body: bytes) -> (text, unreadable)\n\n"
     "The sensitive texts of a JSON body (twin of body.read_body)."},
    {"normalize", llr_normalize, METH_O,
     "normalize(text: str) -> str\n\nTwin of normalize.normalize."},
    {"count_valid", (PyCFunction)(void (*)(void))llr_count_valid, METH_FASTCALL,
     "count_valid(kind: int, spans: list[str], limit: int) -> int\n\n"
     "How many spans pass the span-only check `kind`, counting to `limit`."},
    {"count_card_groups", (PyCFunction)(void (*)(void))llr_count_card_groups,
     METH_FASTCALL,
     "count_card_groups(text: str, limit: int, checked: bool) -> int\n\n"
     "card_grouped's finditer spans that pass the card check (all when not "
     "checked), counting to `limit`."},
    {"cluster_firsts", (PyCFunction)(void (*)(void))llr_cluster_firsts, METH_FASTCALL,
     "cluster_firsts(ends: list[int], width: int) -> list[int]\n\n"
     "Where each cluster of ends closer together than `width` begins."},
    {"next_near", (PyCFunction)(void (*)(void))llr_next_near, METH_FASTCALL,
     "next_near(ends: list[int], firsts: list[int], near: list[int], c: int, "
     "lead: int) -> int\n\n"
     "The first cluster from `c` with a `near` offset at most `lead` before "
     "it (located.Matches.spans), else len(firsts)."},
    {"check_jwt", (PyCFunction)(void (*)(void))llr_check_jwt, METH_FASTCALL,
     "check_jwt(text: str, start: int) -> bool\n\nTwin of checks.check_jwt."},
    {"count_lines", (PyCFunction)(void (*)(void))llr_count_lines, METH_FASTCALL,
     "count_lines(text: str, shape: int, limit: int) -> int\n\n"
     "Lines holding a match of the line shape `shape` (bank.LINE_SHAPES), "
     "counting to `limit`."},
    {NULL, NULL, 0, NULL},
};

static int
native_exec(PyObject *module)
{
    return llr_add_hit_types(module);
}

static PyModuleDef_Slot native_slots[] = {
    {Py_mod_exec, native_exec},
    {0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "router.classify._native",
    .m_doc = "C hot path of the request classifier (twins of the reference).",
    .m_size = 0,
    .m_methods = native_methods,
    .m_slots = native_slots,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    for (Py_UCS4 c = 0; c < 128; c++) {
        ascii_class[c] = (signed char)char_class(c);
    }
    llr_init_cards();
    llr_init_keys();
    return PyModuleDef_Init(&native_module);
}
