/*
 * Field reads for gather.c: getattr(obj, name), fast for msgspec Structs.
 *
 * A field is read through the type's member descriptor when the type uses
 * generic attribute access and the name resolves to a plain object member
 * (what msgspec Structs have), else with getattr. Each LlrField caches the
 * last type it saw and that type's descriptor, holding strong references to
 * both, so a cached PyMemberDef never outlives its descriptor.
 */

#include "native.h"
#include <structmember.h>

/* The plain member descriptor `f` names in `tp`'s MRO, or NULL (no error). */
static PyObject *
find_member(PyTypeObject *tp, LlrField *f)
{
    if (tp->tp_getattro != PyObject_GenericGetAttr || tp->tp_mro == NULL) {
        return NULL;
    }
    PyObject *mro = tp->tp_mro;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *dict = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_dict;
        PyObject *descr =
            dict == NULL ? NULL : PyDict_GetItemWithError(dict, f->interned);
        if (descr == NULL) {
            if (PyErr_Occurred()) {
                PyErr_Clear();
                return NULL;
            }
            continue;
        }
        if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
            if ((m->type == T_OBJECT_EX || m->type == T_OBJECT) && m->flags == 0) {
                return descr;
            }
        }
        return NULL;
    }
    return NULL;
}

/* getattr(obj, f.name): a new reference, or NULL with an exception set. */
PyObject *
llr_get(PyObject *obj, LlrField *f)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (f->interned == NULL) {
        f->interned = PyUnicode_InternFromString(f->name);
        if (f->interned == NULL) {
            return NULL;
        }
    }
    if (f->type != tp) {
        PyObject *descr = find_member(tp, f);
        Py_XINCREF(descr);
        Py_XSETREF(f->descr, descr);
        Py_INCREF(tp);
        Py_XSETREF(f->type, tp);
    }
    if (f->descr == NULL) {
        return PyObject_GetAttr(obj, f->interned);
    }
    PyMemberDef *m = ((PyMemberDescrObject *)f->descr)->d_member;
    return PyMember_GetOne((const char *)obj, m);
}

