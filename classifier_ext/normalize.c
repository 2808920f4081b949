/*
 * Normalise: the sensitive text in, the text its patterns are scanned over
 * out.
 *
 * Twin of router/classify/normalize.py `normalize` (the specification): an
 * all-ASCII text without '%' is returned as it is; otherwise NFKC (through
 * unicodedata, imported once), then one pass that drops format characters
 * and unifies dashes and spaces (the table below: Unicode Cf, Pd plus the
 * minus signs of normalize.MINUS, Zs, as the running Python's unicodedata
 * has them; a test checks every code point), then percent-encoded runs.
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

/* normalize.fold: a new reference, or NULL with an exception. */
static PyObject *
fold(PyObject *text)
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
    PyObject *args[2] = {nfkc_form, text};
    PyObject *nfkc = PyObject_Vectorcall(normalize_fn, args, 2, NULL);
    if (nfkc == NULL || PyUnicode_IS_ASCII(nfkc)) {
        return nfkc;
    }
    int kind = PyUnicode_KIND(nfkc);
    const void *data = PyUnicode_DATA(nfkc);
    Py_ssize_t n = PyUnicode_GET_LENGTH(nfkc), first = -1;
    for (Py_ssize_t i = 0; i < n && first < 0; i++) {
        if (action(PyUnicode_READ(kind, data, i)) != KEEP) {
            first = i;
        }
    }
    if (first < 0) {
        return nfkc;
    }
    Py_UCS4 *out = PyMem_New(Py_UCS4, (size_t)n);
    if (out == NULL) {
        Py_DECREF(nfkc);
        return PyErr_NoMemory();
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int a = i < first ? KEEP : action(c);
        if (a == KEEP) {
            out[k++] = c;
        } else if (a == DASH) {
            out[k++] = '-';
        } else if (a == SPACE) {
            out[k++] = ' ';
        }
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, k);
    PyMem_Free(out);
    Py_DECREF(nfkc);
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

/* The runs of %XX in text decoded where they are UTF-8: a new reference. */
static PyObject *
percent(PyObject *text)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_UCS4 *out = PyMem_New(Py_UCS4, (size_t)n + 1);
    unsigned char *bytes = PyMem_Malloc((size_t)n / 3 + 1);
    if (out == NULL || bytes == NULL) {
        PyMem_Free(out);
        PyMem_Free(bytes);
        return PyErr_NoMemory();
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i, m = 0;
        while (j + 2 < n && PyUnicode_READ(kind, data, j) == '%') {
            int h = hex_digit(PyUnicode_READ(kind, data, j + 1));
            int l = hex_digit(PyUnicode_READ(kind, data, j + 2));
            if (h < 0 || l < 0) {
                break;
            }
            bytes[m++] = (unsigned char)(h * 16 + l);
            j += 3;
        }
        if (m > 0 && decode_run(bytes, m, out, &k)) {
            i = j;
            continue;
        }
        Py_ssize_t stop = m > 0 ? j : i + 1;
        for (; i < stop; i++) {
            out[k++] = PyUnicode_READ(kind, data, i);
        }
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, k);
    PyMem_Free(out);
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
