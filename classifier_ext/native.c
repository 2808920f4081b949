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
 * Module
 * ------------------------------------------------------------------------ */

static PyMethodDef native_methods[] = {
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
    return PyModuleDef_Init(&native_module);
}
