/*
 * Gather, tool definitions: chat `tools` and `functions`, Responses `tools`.
 *
 * Twin of _reference._Gathered.add_tool / add_function and `_strings`: the
 * name (also a tool name), the description, then every string key and value
 * of the parameter schema, depth first, a dict's keys before its values,
 * values popped last first, exactly as the reference's stack walk.
 */

#include "gather.h"

FIELD(type);
FIELD(function);
FIELD(name);
FIELD(description);
FIELD(parameters);

static PyObject *s_web_search;

/* for text in _strings(params): add(text, task=False) -- depth first, the
 * keys of a dict before its values, values popped last first. */
static int
add_strings(Gathered *g, PyObject *params)
{
    PyObject *stack = PyList_New(1);
    if (stack == NULL) {
        return -1;
    }
    PyList_SET_ITEM(stack, 0, Py_NewRef(params));
    int rc = 0;
    Py_ssize_t n;
    while (rc == 0 && (n = PyList_GET_SIZE(stack)) > 0) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(stack, n - 1));
        rc = PyList_SetSlice(stack, n - 1, n, NULL);
        if (rc < 0) {
        } else if (PyUnicode_Check(item)) {
            rc = llr_add(g, item, 0, 1);
        } else if (PyDict_Check(item)) {
            PyObject *key, *value;
            Py_ssize_t pos = 0;
            while (rc == 0 && PyDict_Next(item, &pos, &key, &value)) {
                Py_INCREF(key);
                Py_INCREF(value);
                if (PyUnicode_Check(key)) {
                    rc = llr_add(g, key, 0, 1);
                }
                if (rc == 0) {
                    rc = PyList_Append(stack, value);
                }
                Py_DECREF(key);
                Py_DECREF(value);
            }
        } else if (PyList_Check(item)) {
            for (Py_ssize_t i = PyList_GET_SIZE(item) - 1; rc == 0 && i >= 0; i--) {
                if (i < PyList_GET_SIZE(item)) {
                    rc = PyList_Append(stack, PyList_GET_ITEM(item, i));
                }
            }
        }
        Py_DECREF(item);
    }
    Py_DECREF(stack);
    return rc;
}

/* _Gathered.add_function; the arguments are borrowed. */
static int
add_function(Gathered *g, PyObject *name, PyObject *description, PyObject *params)
{
    int truth = PyObject_IsTrue(name);
    if (truth < 0 || (truth && (PyList_Append(g->tool_names, name) < 0 ||
                                llr_add(g, name, 0, 1) < 0))) {
        return -1;
    }
    if (llr_add(g, description, 0, 1) < 0) {
        return -1;
    }
    return add_strings(g, params);
}

/* add_function(obj.name, obj.description, obj.parameters) */
static int
add_function_of(Gathered *g, PyObject *obj)
{
    PyObject *name = llr_get(obj, &f_name);
    PyObject *description = name == NULL ? NULL : llr_get(obj, &f_description);
    PyObject *params = description == NULL ? NULL : llr_get(obj, &f_parameters);
    int rc = params == NULL ? -1 : add_function(g, name, description, params);
    Py_XDECREF(name);
    Py_XDECREF(description);
    Py_XDECREF(params);
    return rc;
}

/* _Gathered.add_tool */
int
llr_add_tool(Gathered *g, PyObject *tool)
{
    g->items++;
    PyObject *type = llr_get(tool, &f_type);
    if (type == NULL) {
        return -1;
    }
    if (s_web_search == NULL) {
        s_web_search = PyUnicode_InternFromString("web_search");
        if (s_web_search == NULL) {
            Py_DECREF(type);
            return -1;
        }
    }
    int search = PyUnicode_Check(type) ? llr_starts_with(type, s_web_search) : -1;
    if (search < 0) {
        Py_DECREF(type);
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "tool type is not a str");
        }
        return -1;
    }
    if (search) {
        g->flags |= F_SEARCH_TOOL;
    } else if (llr_str_is(type, "code_interpreter")) {
        g->flags |= F_CODE_TOOL;
    }
    Py_DECREF(type);
    PyObject *fn = llr_get(tool, &f_function);
    if (fn == NULL) {
        return -1;
    }
    int rc = add_function_of(g, fn != Py_None ? fn : tool);
    Py_DECREF(fn);
    return rc;
}

int
llr_add_legacy_function(Gathered *g, PyObject *fn)
{
    g->items++;
    return add_function_of(g, fn);
}
