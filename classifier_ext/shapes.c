/*
 * Shapes: the JWT check and the line-shaped patterns' counts.
 *
 * Twins of checks.check_jwt (a base64url header naming alg or typ, followed
 * by `.eyJ`) and of the reference's count of the patterns in
 * bank.LINE_SHAPES (a code fence, a numbered item, a line ending in `);`):
 * matches under re.MULTILINE that lie in one line, at most one per line.
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

/* ------------------------------------------------------ line shapes */

/* Whether the line [start, end) holds a match of `^[ \t]{0,3}(?:```|~~~)`. */
static int
fence_at(const Span *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t blanks = 0;
    while (p < end && blanks < 4 && (AT(s, p) == ' ' || AT(s, p) == '\t')) {
        p++;
        blanks++;
    }
    if (blanks == 4 || p + 3 > end) {
        return 0;
    }
    Py_UCS4 c = AT(s, p);
    return (c == '`' || c == '~') && AT(s, p + 1) == c && AT(s, p + 2) == c;
}

static int
is_blank(Py_UCS4 c)
{
    return c == ' ' || c == '\t';
}

/* `^[ \t]{0,4}[0-9]{1,2}[.)][ \t]`: the classes are disjoint, so each run is
 * read whole and only its length is checked. */
static int
numbered_at(const Span *s, Py_ssize_t p, Py_ssize_t end)
{
    Py_ssize_t from = p;
    while (p < end && is_blank(AT(s, p))) {
        p++;
    }
    if (p - from > 4) {
        return 0;
    }
    from = p;
    while (p < end && IS_DIGIT(AT(s, p))) {
        p++;
    }
    if (p == from || p - from > 2 || p + 2 > end) {
        return 0;
    }
    Py_UCS4 c = AT(s, p);
    return (c == '.' || c == ')') && is_blank(AT(s, p + 1));
}

/* `[)\]'"][ \t]{0,2};[ \t]{0,2}$`, read back from the line's end. */
static int
semicolon_end_at(const Span *s, Py_ssize_t start, Py_ssize_t p)
{
    Py_ssize_t to = p;
    while (p > start && is_blank(AT(s, p - 1))) {
        p--;
    }
    if (to - p > 2 || p == start || AT(s, p - 1) != ';') {
        return 0;
    }
    to = --p;
    while (p > start && is_blank(AT(s, p - 1))) {
        p--;
    }
    if (to - p > 2 || p == start) {
        return 0;
    }
    Py_UCS4 c = AT(s, p - 1);
    return c == ')' || c == ']' || c == '\'' || c == '"';
}

typedef int (*LineShape)(const Span *s, Py_ssize_t start, Py_ssize_t end);

/* In the order of bank.LINE_SHAPES. */
static const LineShape line_shapes[] = {fence_at, numbered_at, semicolon_end_at};

#define N_SHAPES ((long)(sizeof line_shapes / sizeof line_shapes[0]))

/* count_lines(text, shape, limit) -> int: the lines (as re.MULTILINE's `^`
 * and `$` see them: split at each "\n") that hold a match of the shape,
 * counted to `limit`. None of the shapes reads a newline, so a match lies in
 * one line, and none can match twice in one: the count is finditer's. */
PyObject *
llr_count_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "count_lines(text: str, shape: int, limit: int)");
        return NULL;
    }
    long shape = PyLong_AsLong(args[1]);
    if (shape == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[2]);
    if (limit == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (shape < 0 || shape >= N_SHAPES) {
        PyErr_SetString(PyExc_ValueError, "unknown line shape");
        return NULL;
    }
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "limit must not be negative");
        return NULL;
    }
    LineShape at = line_shapes[shape];
    Span s = {PyUnicode_KIND(args[0]), PyUnicode_DATA(args[0]),
              PyUnicode_GET_LENGTH(args[0])};
    Py_ssize_t count = 0, start = 0;
    PyThreadState *released = s.len >= LLR_NOGIL_AT ? PyEval_SaveThread() : NULL;
    while (count < limit) {
        Py_ssize_t end = start;
        if (s.kind == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *data = s.data;
            const Py_UCS1 *nl = memchr(data + start, '\n', (size_t)(s.len - start));
            end = nl == NULL ? s.len : nl - data;
        } else {
            while (end < s.len && AT(&s, end) != '\n') {
                end++;
            }
        }
        count += at(&s, start, end);
        if (end == s.len) {
            break;
        }
        start = end + 1;
    }
    if (released != NULL) {
        PyEval_RestoreThread(released);
    }
    return PyLong_FromSsize_t(count);
}
