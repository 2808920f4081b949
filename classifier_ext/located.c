/*
 * Located matches: the clusters of located.Matches and their walk for a
 * `near` pattern, in C.
 *
 * A cluster of match ends (ends[firsts[k]] .. the end before firsts[k + 1])
 * can hold a match that starts at most `reach` after a context end only if a
 * context end lies in [ends[firsts[k]] - lead, the cluster's last end], lead
 * being the longest match plus the reach. Most clusters of a common keyword
 * have no context that close; this skips them without a Python call each.
 */

#include "native.h"

/* The Py_ssize_t in list[i] (a list of ints), -1 with an exception set. */
static int
item(PyObject *list, Py_ssize_t i, Py_ssize_t *out)
{
    *out = PyLong_AsSsize_t(PyList_GET_ITEM(list, i));
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* item() for a text offset: ValueError below 0 (offsets are never
 * negative, and differences of non-negative ones cannot overflow). */
static int
offset(PyObject *list, Py_ssize_t i, Py_ssize_t *out)
{
    if (item(list, i, out) < 0) {
        return -1;
    }
    if (*out < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must not be negative");
        return -1;
    }
    return 0;
}

/* next_near(ends, firsts, near, c, lead) -> int: the first cluster k >= c
 * with a `near` offset in [ends[firsts[k]] - lead, its last end], else
 * len(firsts). `ends` and `near` ascending, `firsts` ascending indexes into
 * `ends`, starting with 0. */
PyObject *
llr_next_near(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5 || !PyList_Check(args[0]) || !PyList_Check(args[1]) ||
        !PyList_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "next_near(ends: list, firsts: list, near: list, c: int, lead: int)");
        return NULL;
    }
    PyObject *ends = args[0], *firsts = args[1], *near = args[2];
    Py_ssize_t c = PyLong_AsSsize_t(args[3]);
    if (c == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t lead = PyLong_AsSsize_t(args[4]);
    if (lead == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n_ends = PyList_GET_SIZE(ends), n_firsts = PyList_GET_SIZE(firsts);
    Py_ssize_t n_near = PyList_GET_SIZE(near);
    if (c < 0 || lead < 0) {
        PyErr_SetString(PyExc_ValueError, "c and lead must not be negative");
        return NULL;
    }
    Py_ssize_t j = 0, lo = 0, hi = n_near;
    for (Py_ssize_t k = c; k < n_firsts; k++) {
        Py_ssize_t first, last, low, high, value;
        if (item(firsts, k, &first) < 0) {
            return NULL;
        }
        if (k + 1 < n_firsts) {
            if (item(firsts, k + 1, &last) < 0) {
                return NULL;
            }
            last--;
        } else {
            last = n_ends - 1;
        }
        if (first < 0 || last < first || last >= n_ends) {
            PyErr_SetString(PyExc_ValueError, "firsts do not index ends");
            return NULL;
        }
        if (offset(ends, first, &low) < 0 || offset(ends, last, &high) < 0) {
            return NULL;
        }
        low -= lead;
        /* j: the first near offset >= low; low only grows with k, so the
         * first cluster bisects and the others step on. */
        if (k == c) {
            while (lo < hi) {
                Py_ssize_t mid = lo + (hi - lo) / 2;
                if (item(near, mid, &value) < 0) {
                    return NULL;
                }
                if (value < low) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            j = lo;
        }
        for (;; j++) {
            if (j == n_near) {
                return PyLong_FromSsize_t(n_firsts);
            }
            if (item(near, j, &value) < 0) {
                return NULL;
            }
            if (value >= low) {
                break;
            }
        }
        if (value <= high) {
            return PyLong_FromSsize_t(k);
        }
    }
    return PyLong_FromSsize_t(n_firsts);
}

/* cluster_firsts(ends, width) -> list[int]: 0 and every k where
 * ends[k] - ends[k - 1] > width (none for no ends): where each cluster of
 * ends closer together than `width` begins. */
PyObject *
llr_cluster_firsts(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "cluster_firsts(ends: list, width: int)");
        return NULL;
    }
    PyObject *ends = args[0];
    Py_ssize_t width = PyLong_AsSsize_t(args[1]);
    if (width == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *firsts = PyList_New(0);
    if (firsts == NULL) {
        return NULL;
    }
    Py_ssize_t previous = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(ends); k++) {
        Py_ssize_t end;
        if (offset(ends, k, &end) < 0) {
            Py_DECREF(firsts);
            return NULL;
        }
        if (k == 0 || end - previous > width) {
            PyObject *at = PyLong_FromSsize_t(k);
            if (at == NULL || PyList_Append(firsts, at) < 0) {
                Py_XDECREF(at);
                Py_DECREF(firsts);
                return NULL;
            }
            Py_DECREF(at);
        }
        previous = end;
    }
    return firsts;
}
