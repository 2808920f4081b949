/*
 * Normalise: the sensitive text in, the text its patterns are scanned over
 * out.
 *
 * Twin of router/classify/normalize.py `normalize` (the specification): an
 * all-ASCII text without '%' is returned as it is; otherwise each non-ASCII
 * character is folded: its NFKC form (through unicodedata, imported once)
 * with format characters dropped and dashes and spaces unified (the table
 * below: Unicode Cf, Pd plus the minus signs of normalize.MINUS, Zs, as the
 * running Python's unicodedata has them; a test checks every code point).
 * A character's fold is computed once and kept in pages of 256 code points
 * allocated on first use (at most 0x1100 pages; an unchanged character
 * keeps None, so only the few thousand characters with a compatibility
 * form hold a str). Then percent-encoded runs.
 */

#include "native.h"

#include <string.h>

enum { KEEP, DROP, DASH, SPACE };

typedef struct {
    Py_UCS4 lo, hi;
    int action;
} Range;

static const Range ranges[] = {
    {0xA0, 0xA0, SPACE}, {0xAD, 0xAD, DROP}, {0x2D7, 0x2D7, DASH},
    {0x58A, 0x58A, DASH}, {0x5BE, 0x5BE, DASH}, {0x600, 0x605, DROP},
    {0x61C, 0x61C, DROP}, {0x6DD, 0x6DD, DROP}, {0x70F, 0x70F, DROP},
    {0x890, 0x891, DROP}, {0x8E2, 0x8E2, DROP}, {0x1400, 0x1400, DASH},
    {0x1680, 0x1680, SPACE}, {0x1806, 0x1806, DASH}, {0x180E, 0x180E, DROP},
    {0x2000, 0x200A, SPACE}, {0x200B, 0x200F, DROP}, {0x2010, 0x2015, DASH},
    {0x202A, 0x202E, DROP}, {0x202F, 0x202F, SPACE}, {0x2043, 0x2043, DASH},
    {0x205F, 0x205F, SPACE}, {0x2060, 0x2064, DROP}, {0x2066, 0x206F, DROP},
    {0x2212, 0x2212, DASH}, {0x2E17, 0x2E17, DASH}, {0x2E1A, 0x2E1A, DASH},
    {0x2E3A, 0x2E3B, DASH}, {0x2E40, 0x2E40, DASH}, {0x2E5D, 0x2E5D, DASH},
    {0x3000, 0x3000, SPACE}, {0x301C, 0x301C, DASH}, {0x3030, 0x3030, DASH},
    {0x30A0, 0x30A0, DASH}, {0xFE31, 0xFE32, DASH}, {0xFE58, 0xFE58, DASH},
    {0xFE63, 0xFE63, DASH}, {0xFEFF, 0xFEFF, DROP}, {0xFF0D, 0xFF0D, DASH},
    {0xFFF9, 0xFFFB, DROP}, {0x10EAD, 0x10EAD, DASH}, {0x110BD, 0x110BD, DROP},
    {0x110CD, 0x110CD, DROP}, {0x13430, 0x13438, DROP},
    {0x1BCA0, 0x1BCA3, DROP}, {0x1D173, 0x1D17A, DROP},
    {0xE0001, 0xE0001, DROP}, {0xE0020, 0xE007F, DROP},
};

#define N_RANGES ((Py_ssize_t)(sizeof(ranges) / sizeof(ranges[0])))

static int
action(Py_UCS4 c)
{
    if (c < 0xA0) {
        return KEEP;
    }
    Py_ssize_t lo = 0, hi = N_RANGES;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (c < ranges[mid].lo) {
            hi = mid;
        } else if (c > ranges[mid].hi) {
            lo = mid + 1;
        } else {
            return ranges[mid].action;
        }
    }
    return KEEP;
}

static PyObject *nfkc_form;
static PyObject *normalize_fn;

/* normalize.fold_char for one code point: a new reference to its fold, or
 * to None when that is the character itself; NULL with an exception. */
static PyObject *
fold_one(Py_UCS4 c)
{
    if (normalize_fn == NULL) {
        PyObject *mod = PyImport_ImportModule("unicodedata");
        if (mod == NULL) {
            return NULL;
        }
        normalize_fn = PyObject_GetAttrString(mod, "normalize");
        Py_DECREF(mod);
        nfkc_form = PyUnicode_InternFromString("NFKC");
        if (normalize_fn == NULL || nfkc_form == NULL) {
            return NULL;
        }
    }
    PyObject *ch = PyUnicode_FromOrdinal((int)c);
    if (ch == NULL) {
        return NULL;
    }
    PyObject *args[2] = {nfkc_form, ch};
    PyObject *nfkc = PyObject_Vectorcall(normalize_fn, args, 2, NULL);
    Py_DECREF(ch);
    if (nfkc == NULL) {
        return NULL;
    }
    int kind = PyUnicode_KIND(nfkc);
    const void *data = PyUnicode_DATA(nfkc);
    Py_ssize_t n = PyUnicode_GET_LENGTH(nfkc), k = 0;
    Py_UCS4 *out = PyMem_New(Py_UCS4, (size_t)n + 1);
    if (out == NULL) {
        Py_DECREF(nfkc);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 x = PyUnicode_READ(kind, data, i);
        int a = action(x);
        if (a != DROP) {
            out[k++] = a == DASH ? '-' : a == SPACE ? ' ' : x;
        }
    }
    Py_DECREF(nfkc);
    PyObject *result = k == 1 && out[0] == c
                           ? Py_NewRef(Py_None)
                           : PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, k);
    PyMem_Free(out);
    return result;
}

#define PAGES (0x110000 >> 8)
static PyObject **pages[PAGES];

/* The kept fold of c (borrowed: None or a str), or NULL with an exception. */
static PyObject *
folded(Py_UCS4 c)
{
    if (c >= 0x110000) {
        PyErr_SetString(PyExc_ValueError, "code point out of range");
        return NULL;
    }
    PyObject **page = pages[c >> 8];
    if (page == NULL) {
        page = PyMem_Calloc(256, sizeof(PyObject *));
        if (page == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        pages[c >> 8] = page;
    }
    if (page[c & 255] == NULL) {
        page[c & 255] = fold_one(c);
    }
    return page[c & 255];
}

/* normalize.fold: a new reference, or NULL with an exception. */
static PyObject *
fold(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), first = 0;
    for (; first < n; first++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, first);
        PyObject *f = c < 0x80 ? Py_None : folded(c);
        if (f == NULL) {
            return NULL;
        }
        if (f != Py_None) {
            break;
        }
    }
    if (first == n) {
        return Py_NewRef(text);
    }
    Py_ssize_t cap = n + 64, k = 0;
    Py_UCS4 *out = PyMem_New(Py_UCS4, (size_t)cap);
    if (out == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        PyObject *f = c < 0x80 ? Py_None : folded(c);
        if (f == NULL) {
            PyMem_Free(out);
            return NULL;
        }
        Py_ssize_t m = f == Py_None ? 1 : PyUnicode_GET_LENGTH(f);
        if (k + m > cap) {
            cap = (k + m) * 2;
            Py_UCS4 *grown = PyMem_Realloc(out, (size_t)cap * sizeof(Py_UCS4));
            if (grown == NULL) {
                PyMem_Free(out);
                return PyErr_NoMemory();
            }
            out = grown;
        }
        if (f == Py_None) {
            out[k++] = c;
            continue;
        }
        int fk = PyUnicode_KIND(f);
        const void *fd = PyUnicode_DATA(f);
        for (Py_ssize_t j = 0; j < m; j++) {
            out[k++] = PyUnicode_READ(fk, fd, j);
        }
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, k);
    PyMem_Free(out);
    return result;
}

static int
hex_digit(Py_UCS4 c)
{
    return IS_DIGIT(c) ? (int)(c - '0')
           : (c >= 'a' && c <= 'f') ? (int)(c - 'a' + 10)
           : (c >= 'A' && c <= 'F') ? (int)(c - 'A' + 10)
                                    : -1;
}

/* Decodes the strict UTF-8 in bytes[0:n] onto out; 0 when it is not. */
static int
decode_run(const unsigned char *bytes, Py_ssize_t n, Py_UCS4 *out, Py_ssize_t *k)
{
    Py_ssize_t start = *k;
    for (Py_ssize_t i = 0; i < n;) {
        unsigned char c = bytes[i];
        if (c < 0x80) {
            out[(*k)++] = c;
            i++;
            continue;
        }
        int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0xC2 || c > 0xF4) {
            *k = start;
            return 0;
        }
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (n - i < len || bytes[i + 1] < lo || bytes[i + 1] > hi) {
            *k = start;
            return 0;
        }
        Py_UCS4 cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (int j = 1; j < len; j++) {
            if (bytes[i + j] < 0x80 || bytes[i + j] > 0xBF) {
                *k = start;
                return 0;
            }
            cp = (cp << 6) | (bytes[i + j] & 0x3F);
        }
        out[(*k)++] = cp;
        i += len;
    }
    return 1;
}

/* The runs of %XX in text decoded where they are UTF-8: a new reference.
 * The text between decoded runs is copied as substrings and joined. */
static PyObject *
percent(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), kept = 0;
    PyObject *pieces = PyList_New(0);
    Py_UCS4 *decoded = PyMem_New(Py_UCS4, (size_t)n / 3 + 1);
    unsigned char *bytes = PyMem_Malloc((size_t)n / 3 + 1);
    PyObject *result = NULL;
    if (pieces == NULL || decoded == NULL || bytes == NULL) {
        if (pieces != NULL) {
            PyErr_NoMemory();
        }
        goto done;
    }
    Py_ssize_t i = PyUnicode_FindChar(text, '%', 0, n, 1);
    while (i >= 0) {
        Py_ssize_t j = i, m = 0, k = 0;
        while (j + 2 < n && PyUnicode_READ(kind, data, j) == '%') {
            int h = hex_digit(PyUnicode_READ(kind, data, j + 1));
            int l = hex_digit(PyUnicode_READ(kind, data, j + 2));
            if (h < 0 || l < 0) {
                break;
            }
            bytes[m++] = (unsigned char)(h * 16 + l);
            j += 3;
        }
        if (m > 0 && decode_run(bytes, m, decoded, &k)) {
            PyObject *before = PyUnicode_Substring(text, kept, i);
            PyObject *run = before == NULL ? NULL
                            : PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND,
                                                        decoded, k);
            int rc = run == NULL ? -1 : PyList_Append(pieces, before);
            rc = rc < 0 ? -1 : PyList_Append(pieces, run);
            Py_XDECREF(before);
            Py_XDECREF(run);
            if (rc < 0) {
                goto done;
            }
            kept = j;
        }
        Py_ssize_t next = m > 0 ? j : i + 1;
        i = next < n ? PyUnicode_FindChar(text, '%', next, n, 1) : -1;
    }
    if (i < -1) {
        goto done;
    }
    if (kept == 0) {
        result = Py_NewRef(text);
        goto done;
    }
    PyObject *rest = PyUnicode_Substring(text, kept, n);
    if (rest == NULL || PyList_Append(pieces, rest) < 0) {
        Py_XDECREF(rest);
        goto done;
    }
    Py_DECREF(rest);
    PyObject *empty = PyUnicode_New(0, 0);
    result = empty == NULL ? NULL : PyUnicode_Join(empty, pieces);
    Py_XDECREF(empty);
done:
    Py_XDECREF(pieces);
    PyMem_Free(decoded);
    PyMem_Free(bytes);
    return result;
}

static int
has_percent(PyObject *text)
{
    return PyUnicode_FindChar(text, '%', 0, PyUnicode_GET_LENGTH(text), 1) >= 0;
}

/* normalize(text) -> str */
PyObject *
llr_normalize(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "normalize() expects a str");
        return NULL;
    }
    int ascii = PyUnicode_IS_ASCII(text);
    if (ascii && !has_percent(text)) {
        return Py_NewRef(text);
    }
    PyObject *t = ascii ? Py_NewRef(text) : fold(text);
    if (t != NULL && has_percent(t)) {
        Py_SETREF(t, percent(t));
        if (t != NULL && !PyUnicode_IS_ASCII(t)) {
            Py_SETREF(t, fold(t));
        }
    }
    return t;
}
