/*
 * Span checks: candidate spans in, "really a card / IBAN / SSN / ..." out.
 *
 * Twins of the span-only checks of router/classify/checks.py, those that read
 * nothing outside the matched span (cards: cards.c). The IBAN lengths are
 * those of validators.py; tests compare every entry.
 */

#include "native.h"

enum {
    K_CARD, K_IBAN, K_SSN, K_ITIN, K_PHONE_INTL, K_DATE, K_MEDICAL_ID,
    K_ID_FIRST, /* ids.c's kinds follow, in the order of ids.ID_CHECKS */
    K_COUNT = K_ID_FIRST + LLR_ID_KINDS
};

/* ---------------------------------------------------------------- IBANs */

static const char iban_lengths[] =
    "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24"
    "DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27"
    "GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20"
    "LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24"
    "PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25"
    "SV28TL23TN24TR26UA29VA22VG24XK20YE30";

/* IBAN_LENGTHS.get(country), 0 when absent. */
static int
iban_length(Py_UCS4 a, Py_UCS4 b)
{
    for (const char *p = iban_lengths; *p; p += 4) {
        if ((Py_UCS4)(unsigned char)p[0] == a && (Py_UCS4)(unsigned char)p[1] == b) {
            return (p[2] - '0') * 10 + (p[3] - '0');
        }
    }
    return 0;
}

static int
iban_char_value(Py_UCS4 c)
{
    return IS_DIGIT(c) ? (int)(c - '0') : (c >= 'A' && c <= 'Z') ? (int)(c - 'A' + 10) : -1;
}

/* validators.iban_ok over `n` code points. */
static int
iban_ok(const Py_UCS4 *v, Py_ssize_t n)
{
    if (n < 15 || iban_length(v[0], v[1]) != n || !IS_DIGIT(v[2]) || !IS_DIGIT(v[3])) {
        return 0;
    }
    int rem = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int x = iban_char_value(v[(i + 4) % n]);
        if (x < 0) {
            return 0;
        }
        rem = (x < 10 ? rem * 10 + x : rem * 100 + x) % 97;
    }
    return rem == 1;
}

/* An ASCII letter upper-cased (str.upper of the ASCII spans IBANs match). */
static Py_UCS4
upper(Py_UCS4 c)
{
    return c >= 'a' && c <= 'z' ? c - 32 : c;
}

/* checks.check_iban: the leading whole groups that add up to the country's
 * length pass mod-97, in any case. */
static int
check_iban(const Span *s)
{
    if (s->len < 2) {
        return 0;
    }
    int want = iban_length(upper(AT(s, 0)), upper(AT(s, 1)));
    if (want == 0) {
        return 0;
    }
    Py_UCS4 buf[40];
    Py_ssize_t total = 0, size = 0;
    for (Py_ssize_t i = 0; i <= s->len; i++) {
        if (i == s->len || llr_is_sep(AT(s, i))) {
            if (total == want) {
                return iban_ok(buf, size);
            }
            if (total > want) {
                return 0;
            }
            continue;
        }
        total++;
        if (total <= want) {
            buf[size++] = upper(AT(s, i));
        }
    }
    return 0;
}

/* ------------------------------------------------- digit-only checks */

/* The ASCII digits of the span, at most `cap` of them; returns how many
 * there are in all. */
static Py_ssize_t
digits_of(const Span *s, char *out, Py_ssize_t cap)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->len; i++) {
        Py_UCS4 c = AT(s, i);
        if (IS_DIGIT(c)) {
            if (n < cap) {
                out[n] = (char)c;
            }
            n++;
        }
    }
    return n;
}

static int
check_ssn(const Span *s)
{
    char d[9];
    if (digits_of(s, d, 9) != 9) {
        return 0;
    }
    int area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    int group = (d[3] - '0') * 10 + (d[4] - '0');
    int serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');
    return area != 0 && area != 666 && d[0] != '9' && group != 0 && serial != 0;
}

static int
check_itin(const Span *s)
{
    char d[9];
    if (digits_of(s, d, 9) != 9 || d[0] != '9') {
        return 0;
    }
    int g = (d[3] - '0') * 10 + (d[4] - '0');
    return (50 <= g && g <= 65) || (70 <= g && g <= 88) || (90 <= g && g <= 92) || g >= 94;
}

static int
check_medical_id(const Span *s)
{
    char d[2];
    Py_ssize_t n = digits_of(s, d, 1);
    if (n < 5) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < s->len; i++) {
        Py_UCS4 c = AT(s, i);
        if (IS_DIGIT(c) && c != (Py_UCS4)d[0]) {
            return 1;
        }
    }
    return 0;
}

/* checks.check_date over checks._numbers(span); numbers saturate at 10**9,
 * which keeps every comparison the check makes. */
static int
check_date(const Span *s)
{
    long long small[2] = {0, 0}, year = -1, cur = -1;
    int n_small = 0;
    for (Py_ssize_t i = 0; i <= s->len; i++) {
        Py_UCS4 c = i < s->len ? AT(s, i) : ' ';
        if (IS_DIGIT(c)) {
            cur = (cur < 0 ? 0 : cur) * 10 + (long long)(c - '0');
            cur = cur > 1000000000LL ? 1000000000LL : cur;
            continue;
        }
        if (cur >= 100 && year < 0) {
            year = cur;
        } else if (cur >= 0 && cur < 100) {
            if (n_small < 2) {
                small[n_small] = cur;
            }
            n_small++;
        }
        cur = -1;
    }
    if (n_small >= 2) {
        long long a = small[0], b = small[1];
        int valid = (1 <= a && a <= 12 && 1 <= b && b <= 31) ||
                    (1 <= b && b <= 12 && 1 <= a && a <= 31);
        return valid && (year < 0 || year < 100 || (1900 <= year && year <= 2100));
    }
    return n_small == 1 && 1 <= small[0] && small[0] <= 31 && year >= 0;
}

/* ------------------------------------------------------------- entry */

static int
check_span(int kind, const Span *s, Py_ssize_t *starts, Py_ssize_t *lens)
{
    char ignored[1];
    Py_ssize_t n;
    switch (kind) {
    case K_CARD:
        return llr_check_card(s, starts, lens);
    case K_IBAN:
        return check_iban(s);
    case K_SSN:
        return check_ssn(s);
    case K_ITIN:
        return check_itin(s);
    case K_PHONE_INTL:
        n = digits_of(s, ignored, 0);
        return 8 <= n && n <= 15;
    case K_DATE:
        return check_date(s);
    case K_MEDICAL_ID:
        return check_medical_id(s);
    default:
        return llr_check_id(kind - K_ID_FIRST, s);
    }
}

/* count_valid(kind, spans, limit) -> int */
PyObject *
llr_count_valid(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "count_valid(kind, spans: list, limit)");
        return NULL;
    }
    long kind = PyLong_AsLong(args[0]);
    long long limit = PyLong_AsLongLong(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (kind < 0 || kind >= K_COUNT) {
        PyErr_SetString(PyExc_ValueError, "unknown span check");
        return NULL;
    }
    PyObject *spans = args[1];
    long long count = 0;
    Py_ssize_t stack_marks[2 * 64];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(spans) && count < limit; i++) {
        PyObject *item = PyList_GET_ITEM(spans, i);
        if (!PyUnicode_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "spans must be str");
            return NULL;
        }
        Span s = {PyUnicode_KIND(item), PyUnicode_DATA(item),
                  PyUnicode_GET_LENGTH(item)};
        Py_ssize_t room = s.len + 1;
        Py_ssize_t *marks = stack_marks;
        if (kind == K_CARD && room > 64) {
            marks = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)room);
            if (marks == NULL) {
                return PyErr_NoMemory();
            }
        } else {
            room = 64;
        }
        count += check_span((int)kind, &s, marks, marks + room);
        if (marks != stack_marks) {
            PyMem_Free(marks);
        }
    }
    return PyLong_FromLongLong(count);
}
