/*
 * Shared by gather.c (messages, parts, input items) and tools.c (tool
 * definitions): what one request's walk collects, and how a text is added.
 */

#ifndef LLR_GATHER_H
#define LLR_GATHER_H

#include "native.h"

/* Bits of `flags`, as in _reference.py. */
enum {
    F_IMAGE = 1,
    F_AUDIO = 2,
    F_SEARCH_TOOL = 4,
    F_CODE_TOOL = 8,
    F_WEB_SEARCH_OPTIONS = 16,
};

/* _reference._Gathered: the task texts, the tool names, the counts. */
typedef struct {
    PyObject *task;
    PyObject *tool_names;
    long long tokens;
    long long items;
    long flags;
} Gathered;

#define FIELD(x) static LlrField f_##x = {#x, NULL, NULL, NULL}

/* gather.c: _Gathered.add (text borrowed; 0, or -1 with an exception). */
int llr_add(Gathered *g, PyObject *text, int task, int counted);
/* gather.c: `s == want` for a str s; `text.startswith(prefix)`: 1, 0, -1. */
int llr_str_is(PyObject *s, const char *want);
int llr_starts_with(PyObject *text, PyObject *prefix);

/* tools.c: _Gathered.add_tool, and one legacy `functions` entry. */
int llr_add_tool(Gathered *g, PyObject *tool);
int llr_add_legacy_function(Gathered *g, PyObject *fn);

#endif
