/*
 * Scanning support: what hyperscan reads and what it reports.
 *
 * Utf8(text): a read-only buffer of the UTF-8 form of a str for
 * `hyperscan.Database.scan`, without a copy for ASCII text. Lone surrogates
 * (JSON can carry them) become U+FFFD, which every pattern of the bank treats
 * as it treats the surrogate: one non-ASCII code point outside every class.
 *
 * Hits(cap): the match event handler. Called as (id, from, to, flags,
 * context), it keeps every (id, to) and halts the scan once there are more
 * than `cap`; `collect(text)` returns {id: ends}, the ends ascending, unique
 * and turned from UTF-8 byte offsets of `text` into code point offsets, or
 * None after a halt.
 */

#include "native.h"

#include <stddef.h>

/* ------------------------------------------------------------------ Utf8 */

typedef struct {
    PyObject_HEAD
    PyObject *owner; /* the str, or bytes holding the replaced form */
    const char *buf;
    Py_ssize_t len;
} Utf8;

/* UTF-8 of `text` with each surrogate written as U+FFFD, as bytes. */
static PyObject *
utf8_replacing_surrogates(PyObject *text)
{
    Span s = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    PyObject *out = PyBytes_FromStringAndSize(NULL, s.len * 4);
    if (out == NULL) {
        return NULL;
    }
    unsigned char *p = (unsigned char *)PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < s.len; i++) {
        Py_UCS4 c = AT(&s, i);
        if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c < 0x80) {
            *p++ = (unsigned char)c;
        } else if (c < 0x800) {
            *p++ = (unsigned char)(0xC0 | (c >> 6));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *p++ = (unsigned char)(0xE0 | (c >> 12));
            *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *p++ = (unsigned char)(0xF0 | (c >> 18));
            *p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    Py_ssize_t used = (Py_ssize_t)(p - (unsigned char *)PyBytes_AS_STRING(out));
    if (_PyBytes_Resize(&out, used) < 0) {
        return NULL;
    }
    return out;
}

static PyObject *
utf8_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *text;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Utf8() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "U:Utf8", &text)) {
        return NULL;
    }
    Utf8 *self = (Utf8 *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (PyUnicode_IS_ASCII(text)) {
        self->buf = (const char *)PyUnicode_DATA(text);
        self->len = PyUnicode_GET_LENGTH(text);
        self->owner = Py_NewRef(text);
        return (PyObject *)self;
    }
    self->buf = PyUnicode_AsUTF8AndSize(text, &self->len);
    if (self->buf != NULL) {
        self->owner = Py_NewRef(text);
        return (PyObject *)self;
    }
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        Py_DECREF(self);
        return NULL;
    }
    PyErr_Clear();
    self->owner = utf8_replacing_surrogates(text);
    if (self->owner == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->buf = PyBytes_AS_STRING(self->owner);
    self->len = PyBytes_GET_SIZE(self->owner);
    return (PyObject *)self;
}

static void
utf8_dealloc(Utf8 *self)
{
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
utf8_getbuffer(Utf8 *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, (PyObject *)self, (void *)self->buf, self->len, 1,
                             flags);
}

static Py_ssize_t
utf8_length(Utf8 *self)
{
    return self->len;
}

static PyBufferProcs utf8_as_buffer = {(getbufferproc)utf8_getbuffer, NULL};
static PySequenceMethods utf8_as_sequence = {.sq_length = (lenfunc)utf8_length};

static PyTypeObject Utf8Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "router.classify._native.Utf8",
    .tp_basicsize = sizeof(Utf8),
    .tp_dealloc = (destructor)utf8_dealloc,
    .tp_as_sequence = &utf8_as_sequence,
    .tp_as_buffer = &utf8_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Utf8(text: str)\n\nRead-only UTF-8 buffer of `text` for hyperscan.",
    .tp_new = utf8_new,
};

/* ------------------------------------------------------------------ Hits */

typedef struct {
    long long end;
    unsigned int id;
} Report;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    Py_ssize_t cap, len, room;
    int halted;
    Report *reports;
} Hits;

static PyObject *
hits_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Hits *self = (Hits *)callable;
    if (PyVectorcall_NARGS(nargsf) < 3 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "Hits expects (id, from, to, ...)");
        return NULL;
    }
    unsigned long id = PyLong_AsUnsignedLong(args[0]);
    long long to = PyLong_AsLongLong(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (id > 0xFFFFFFFFul || to < 0) {
        PyErr_SetString(PyExc_ValueError, "pattern id or offset out of range");
        return NULL;
    }
    if (self->len >= self->cap) {
        self->halted = 1;
        Py_RETURN_TRUE;
    }
    if (self->len == self->room) {
        Py_ssize_t room = self->room ? self->room * 2 : 32;
        Report *grown = PyMem_Realloc(self->reports, sizeof(Report) * (size_t)room);
        if (grown == NULL) {
            return PyErr_NoMemory();
        }
        self->reports = grown;
        self->room = room;
    }
    self->reports[self->len].end = to;
    self->reports[self->len++].id = (unsigned int)id;
    Py_RETURN_NONE;
}

static PyObject *
hits_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Py_ssize_t cap;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) != 0) {
        PyErr_SetString(PyExc_TypeError, "Hits() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "n:Hits", &cap)) {
        return NULL;
    }
    Hits *self = (Hits *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->vectorcall = hits_call;
        self->cap = cap < 0 ? 0 : cap;
    }
    return (PyObject *)self;
}

static void
hits_dealloc(Hits *self)
{
    PyMem_Free(self->reports);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
by_end_then_id(const void *a, const void *b)
{
    const Report *x = a, *y = b;
    if (x->end != y->end) {
        return x->end < y->end ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

static Py_ssize_t
utf8_width(Py_UCS4 c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/* Append `value` to out[key], creating the list. */
static int
append_end(PyObject *out, unsigned int id, Py_ssize_t value)
{
    PyObject *key = PyLong_FromUnsignedLong(id);
    if (key == NULL) {
        return -1;
    }
    PyObject *list = PyDict_GetItemWithError(out, key);
    int rc = -1;
    if (list == NULL && !PyErr_Occurred()) {
        list = PyList_New(0);
        if (list != NULL && PyDict_SetItem(out, key, list) == 0) {
            Py_DECREF(list); /* the dict holds it */
        } else {
            Py_XDECREF(list);
            list = NULL;
        }
    }
    PyObject *item = list == NULL ? NULL : PyLong_FromSsize_t(value);
    if (item != NULL) {
        rc = PyList_Append(list, item);
        Py_DECREF(item);
    }
    Py_DECREF(key);
    return rc;
}

/* collect(text) -> {id: ends ascending, unique, in code points} or None
 * after a halt; one pass over the text for every report. */
static PyObject *
hits_collect(Hits *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "collect() expects the scanned str");
        return NULL;
    }
    if (self->halted) {
        Py_RETURN_NONE;
    }
    if (self->len > 1) {
        qsort(self->reports, (size_t)self->len, sizeof(Report), by_end_then_id);
    }
    Span s = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    int ascii = PyUnicode_IS_ASCII(text);
    long long bytes = 0;
    Py_ssize_t chars = 0;
    PyObject *out = PyDict_New();
    for (Py_ssize_t k = 0; out != NULL && k < self->len; k++) {
        const Report *r = &self->reports[k];
        if (k > 0 && r->end == r[-1].end && r->id == r[-1].id) {
            continue;
        }
        if (ascii) {
            chars = (Py_ssize_t)(r->end < s.len ? r->end : s.len);
        }
        while (!ascii && chars < s.len && bytes < r->end) {
            bytes += utf8_width(AT(&s, chars));
            chars++;
        }
        if (append_end(out, r->id, chars) < 0) {
            Py_CLEAR(out);
        }
    }
    return out;
}

/* tally() -> {id: number of reports kept}, also after a halt */
static PyObject *
hits_tally(Hits *self, PyObject *unused)
{
    (void)unused;
    PyObject *out = PyDict_New();
    for (Py_ssize_t k = 0; out != NULL && k < self->len; k++) {
        PyObject *key = PyLong_FromUnsignedLong(self->reports[k].id);
        PyObject *old = key == NULL ? NULL : PyDict_GetItemWithError(out, key);
        long n = old == NULL ? 0 : PyLong_AsLong(old);
        PyObject *value = PyErr_Occurred() ? NULL : PyLong_FromLong(n + 1);
        if (value == NULL || PyDict_SetItem(out, key, value) < 0) {
            Py_CLEAR(out);
        }
        Py_XDECREF(key);
        Py_XDECREF(value);
    }
    return out;
}

static PyMethodDef hits_methods[] = {
    {"tally", (PyCFunction)hits_tally, METH_NOARGS,
     "tally() -> dict[int, int]\n\nReports kept per pattern id, also after a halt."},
    {"collect", (PyCFunction)hits_collect, METH_O,
     "collect(text: str) -> dict[int, list[int]] | None\n\n"
     "Every reported end per pattern id, in code points; None after a halt."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject HitsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "router.classify._native.Hits",
    .tp_basicsize = sizeof(Hits),
    .tp_dealloc = (destructor)hits_dealloc,
    .tp_vectorcall_offset = offsetof(Hits, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Hits(cap: int)\n\nHyperscan match handler: (id, end) reports, up to cap.",
    .tp_methods = hits_methods,
    .tp_new = hits_new,
};

int
llr_add_hit_types(PyObject *module)
{
    PyTypeObject *types[] = {&Utf8Type, &HitsType};
    const char *names[] = {"Utf8", "Hits"};
    for (int i = 0; i < 2; i++) {
        if (PyType_Ready(types[i]) < 0 ||
            PyModule_AddObjectRef(module, names[i], (PyObject *)types[i]) < 0) {
            return -1;
        }
    }
    return 0;
}
