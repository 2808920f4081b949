/*
 * router.classify._native: the classifier's per-request kernels in C.
 *
 * Each function is the twin of a pure-Python function in router/classify/
 * (the specification); tests/unit/test_native_diff.py proves they agree on
 * every input they are given. No state, no allocation beyond the return
 * value, no undefined behaviour (built and tested once under ASan/UBSan with
 * LLR_SANITIZE=1).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* ------------------------------------------------------------------------
 * Luhn checksum                       twin of validators.luhn_ok
 * ------------------------------------------------------------------------ */

static PyObject *
native_luhn_ok(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "luhn_ok() expects a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    if (n < 13 || n > 19) {
        Py_RETURN_FALSE;
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    int sum = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, n - 1 - i);
        if (ch < '0' || ch > '9') {
            Py_RETURN_FALSE;
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
    return PyBool_FromLong(sum % 10 == 0);
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

static PyObject *
native_estimate_tokens(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "estimate_tokens() expects a str");
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(arg);
    if (len == 0) {
        return PyLong_FromLong(0);
    }
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    long long units = 0, n = 0, non_ascii = 0;
    int cls = C_NONE;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int k = c < 128 ? ascii_class[c] : char_class(c);
        if (k != cls) {
            if (cls != C_NONE) {
                units += run_units(cls, n, non_ascii, k);
            }
            cls = k;
            n = 0;
            non_ascii = 0;
        }
        n++;
        if (c >= 128 && k == C_WORD) {
            non_ascii++;
        }
    }
    units += run_units(cls, n, non_ascii, C_NONE);
    long long tokens = (units + 50) / 100;
    return PyLong_FromLongLong(tokens < 1 ? 1 : tokens);
}

/* ------------------------------------------------------------------------
 * Module
 * ------------------------------------------------------------------------ */

static PyMethodDef native_methods[] = {
    {"estimate_tokens", native_estimate_tokens, METH_O,
     "estimate_tokens(text: str) -> int\n\nLight BPE token estimate."},
    {"luhn_ok", native_luhn_ok, METH_O,
     "luhn_ok(digits: str) -> bool\n\nLuhn check of 13..19 ASCII digits."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "router.classify._native",
    .m_doc = "C kernels of the request classifier (twins of the reference).",
    .m_size = 0,
    .m_methods = native_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    for (Py_UCS4 c = 0; c < 128; c++) {
        ascii_class[c] = (signed char)char_class(c);
    }
    return PyModuleDef_Init(&native_module);
}
