/*
 * Shapes: the JWT check and the code-fence count.
 *
 * Twins of checks.check_jwt (a base64url header naming alg or typ, followed
 * by `.eyJ`) and of the fence count of the reference's scan: matches of
 * `^[ \t]{0,3}(?:```|~~~)` under re.MULTILINE, at most one per line.
 */

#include "native.h"

#include <string.h>

#define MAX_JWT_HEADER 2048 /* checks.MAX_EXTEND */

/* ------------------------------------------------------------- JWT */

static int
is_token_char(Py_UCS4 c)
{
    return IS_DIGIT(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '_' || c == '-';
}

static int
b64url_value(Py_UCS4 c)
{
    if (c >= 'A' && c <= 'Z') {
        return (int)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (int)(c - 'a' + 26);
    }
    if (IS_DIGIT(c)) {
        return (int)(c - '0' + 52);
    }
    return c == '-' ? 62 : 63;
}

static int
is_b_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == 0x0c;
}

/* validators.jwt_header_ok over the token characters [start, end). */
static int
jwt_header_ok(const Span *s, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t n = end - start;
    if (n % 4 == 1) {
        return 0;
    }
    unsigned char raw[MAX_JWT_HEADER * 3 / 4 + 3];
    Py_ssize_t size = 0;
    unsigned acc = 0;
    int bits = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        acc = (acc << 6 | (unsigned)b64url_value(AT(s, i))) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[size++] = (unsigned char)(acc >> bits);
        }
    }
    Py_ssize_t lo = 0, hi = size;
    while (lo < hi && is_b_space(raw[lo])) {
        lo++;
    }
    while (hi > lo && is_b_space(raw[hi - 1])) {
        hi--;
    }
    if (hi - lo < 1 || raw[lo] != '{' || raw[hi - 1] != '}') {
        return 0;
    }
    for (Py_ssize_t i = lo; i + 5 <= hi; i++) {
        if (raw[i] == '"' && raw[i + 4] == '"' &&
            (memcmp(raw + i + 1, "alg", 3) == 0 || memcmp(raw + i + 1, "typ", 3) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* check_jwt(text, start) -> bool: checks.check_jwt at a match start. */
PyObject *
llr_check_jwt(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "check_jwt(text: str, start: int)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Span s = {PyUnicode_KIND(args[0]), PyUnicode_DATA(args[0]),
              PyUnicode_GET_LENGTH(args[0])};
    if (start < 0 || start > s.len) {
        PyErr_SetString(PyExc_ValueError, "start out of range");
        return NULL;
    }
    Py_ssize_t end = start;
    while (end < s.len && end - start < MAX_JWT_HEADER && is_token_char(AT(&s, end))) {
        end++;
    }
    static const char dot_eyj[] = ".eyJ";
    for (int i = 0; i < 4; i++) {
        if (end + i >= s.len || AT(&s, end + i) != (Py_UCS4)dot_eyj[i]) {
            Py_RETURN_FALSE;
        }
    }
    return PyBool_FromLong(jwt_header_ok(&s, start, end));
}

/* ------------------------------------------------------- code fences */

/* Whether a line starting at `p` opens with at most three blanks and then
 * ``` or ~~~. */
static int
fence_at(const Span *s, Py_ssize_t p)
{
    Py_ssize_t blanks = 0;
    while (p < s->len && blanks < 4 && (AT(s, p) == ' ' || AT(s, p) == '\t')) {
        p++;
        blanks++;
    }
    if (blanks == 4 || p + 3 > s->len) {
        return 0;
    }
    Py_UCS4 c = AT(s, p);
    return (c == '`' || c == '~') && AT(s, p + 1) == c && AT(s, p + 2) == c;
}

/* count_fences(text) -> int: lines that open with at most three blanks and
 * then ``` or ~~~ (each line matches at most once). */
PyObject *
llr_count_fences(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "count_fences() expects a str");
        return NULL;
    }
    Span s = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    long long count = s.len > 0 && fence_at(&s, 0);
    if (s.kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *data = s.data, *p = data, *end = data + s.len;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            p++;
            count += fence_at(&s, p - data);
        }
    } else {
        for (Py_ssize_t i = 0; i < s.len; i++) {
            if (AT(&s, i) == '\n') {
                count += fence_at(&s, i + 1);
            }
        }
    }
    return PyLong_FromLongLong(count);
}
