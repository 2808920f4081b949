/*
 * Gather: a decoded request in, its texts and facts out.
 *
 * Twin of router/classify/_reference.py `gather` (the specification): the
 * same walk over messages, parts, tool calls, tool definitions (tools.c) and
 * Responses input items, in the same order, so the joined task texts are
 * equal strings and the token estimates equal. Returns (task, tokens, items,
 * flags, tool_names); the sensitive text is read from the body (body.c).
 * Fields are read with llr_get (fields.c).
 */

#include "gather.h"

FIELD(messages);
FIELD(role);
FIELD(content);
FIELD(name);
FIELD(tool_calls);
FIELD(function);
FIELD(function_call);
FIELD(arguments);
FIELD(tools);
FIELD(functions);
FIELD(type);
FIELD(text);
FIELD(refusal);
FIELD(filename);
FIELD(image_url);
FIELD(input_audio);
FIELD(web_search_options);
FIELD(instructions);
FIELD(input);
FIELD(output);

/* `s == want` for a str `s`; False for anything else. */
int
llr_str_is(PyObject *s, const char *want)
{
    return PyUnicode_Check(s) && PyUnicode_CompareWithASCIIString(s, want) == 0;
}

/* `role not in ("system", "developer")` */
static int
is_task_role(PyObject *role)
{
    return !llr_str_is(role, "system") && !llr_str_is(role, "developer");
}

/* _Gathered.add; `text` is borrowed. */
int
llr_add(Gathered *g, PyObject *text, int task, int counted)
{
    int truth = PyObject_IsTrue(text);
    if (truth <= 0) {
        return truth;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.80s",
                     Py_TYPE(text)->tp_name);
        return -1;
    }
    if (task && PyList_Append(g->task, text) < 0) {
        return -1;
    }
    if (counted) {
        long long n = llr_estimate_tokens(text);
        if (n < 0) {
            return -1;
        }
        g->tokens += n;
    }
    return 0;
}

/* add(getattr(obj, f), task) */
static int
add_field(Gathered *g, PyObject *obj, LlrField *f, int task)
{
    PyObject *value = llr_get(obj, f);
    if (value == NULL) {
        return -1;
    }
    int rc = llr_add(g, value, task, 1);
    Py_DECREF(value);
    return rc;
}

static PyObject *s_separator;

/* `text.startswith(prefix)` for a str `text`: 1, 0 or -1. */
int
llr_starts_with(PyObject *text, PyObject *prefix)
{
    return (int)PyUnicode_Tailmatch(text, prefix, 0, PY_SSIZE_T_MAX, -1);
}

/* _Gathered.add_part */
static int
add_part(Gathered *g, PyObject *part, int task)
{
    if (add_field(g, part, &f_text, task) < 0 ||
        add_field(g, part, &f_refusal, task) < 0 ||
        add_field(g, part, &f_filename, 0) < 0) {
        return -1;
    }
    PyObject *type = llr_get(part, &f_type);
    if (type == NULL) {
        return -1;
    }
    int rc = 0;
    PyObject *image_url = llr_get(part, &f_image_url);
    if (image_url == NULL) {
        rc = -1;
    } else if (image_url != Py_None || llr_str_is(type, "image_url") ||
               llr_str_is(type, "input_image")) {
        g->flags |= F_IMAGE;
    }
    Py_XDECREF(image_url);
    PyObject *audio = rc < 0 ? NULL : llr_get(part, &f_input_audio);
    if (audio == NULL) {
        rc = -1;
    } else if (audio != Py_None || llr_str_is(type, "input_audio")) {
        g->flags |= F_AUDIO;
    }
    Py_XDECREF(audio);
    Py_DECREF(type);
    return rc;
}

/* _Gathered.add_content; `content` is borrowed. */
static int
add_content(Gathered *g, PyObject *content, int task)
{
    if (PyUnicode_Check(content)) {
        return llr_add(g, content, task, 1);
    }
    if (content == Py_None) {
        return 0;
    }
    PyObject *it = PyObject_GetIter(content);
    if (it == NULL) {
        return -1;
    }
    PyObject *part;
    int rc = 0;
    while (rc == 0 && (part = PyIter_Next(it)) != NULL) {
        rc = add_part(g, part, task);
        Py_DECREF(part);
    }
    Py_DECREF(it);
    return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

/* add_content(getattr(obj, f), task) */
static int
add_content_field(Gathered *g, PyObject *obj, LlrField *f, int task)
{
    PyObject *value = llr_get(obj, f);
    if (value == NULL) {
        return -1;
    }
    int rc = add_content(g, value, task);
    Py_DECREF(value);
    return rc;
}

/* `for x in (getattr(obj, f) or ()): each(g, x)` */
static int
each(Gathered *g, PyObject *obj, LlrField *f, int (*visit)(Gathered *, PyObject *))
{
    PyObject *seq = llr_get(obj, f);
    if (seq == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(seq);
    PyObject *it = truth > 0 ? PyObject_GetIter(seq) : NULL;
    Py_DECREF(seq);
    if (truth <= 0) {
        return truth;
    }
    if (it == NULL) {
        return -1;
    }
    PyObject *x;
    int rc = 0;
    while (rc == 0 && (x = PyIter_Next(it)) != NULL) {
        rc = visit(g, x);
        Py_DECREF(x);
    }
    Py_DECREF(it);
    return rc < 0 || PyErr_Occurred() ? -1 : 0;
}

/* One function call of a chat message: its name, then its arguments. */
static int
add_call(Gathered *g, PyObject *call)
{
    if (add_field(g, call, &f_name, 0) < 0) {
        return -1;
    }
    return add_field(g, call, &f_arguments, 1);
}

/* `c.function` for a tool call, added when truthy; the calls of one message
 * are added after its content and name, as in the reference. */
static int
add_tool_call(Gathered *g, PyObject *tool_call)
{
    PyObject *fn = llr_get(tool_call, &f_function);
    if (fn == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(fn);
    int rc = truth <= 0 ? truth : add_call(g, fn);
    Py_DECREF(fn);
    return rc;
}

/* What a chat message and a Responses input item share: one item, the scope
 * its role gives, its content and its name. */
static int
add_turn(Gathered *g, PyObject *turn)
{
    g->items++;
    PyObject *role = llr_get(turn, &f_role);
    if (role == NULL) {
        return -1;
    }
    int task = is_task_role(role);
    Py_DECREF(role);
    if (add_content_field(g, turn, &f_content, task) < 0) {
        return -1;
    }
    return add_field(g, turn, &f_name, 0);
}

static int
add_message(Gathered *g, PyObject *message)
{
    if (add_turn(g, message) < 0 || each(g, message, &f_tool_calls, add_tool_call) < 0) {
        return -1;
    }
    PyObject *legacy = llr_get(message, &f_function_call);
    if (legacy == NULL) {
        return -1;
    }
    int rc = legacy == Py_None ? 0 : add_call(g, legacy);
    Py_DECREF(legacy);
    return rc;
}

static int
add_input_item(Gathered *g, PyObject *item)
{
    if (add_turn(g, item) < 0 || add_field(g, item, &f_arguments, 1) < 0) {
        return -1;
    }
    return add_content_field(g, item, &f_output, 1);
}

static int
gather_chat(Gathered *g, PyObject *request)
{
    if (each(g, request, &f_messages, add_message) < 0 ||
        each(g, request, &f_tools, llr_add_tool) < 0 ||
        each(g, request, &f_functions, llr_add_legacy_function) < 0) {
        return -1;
    }
    PyObject *options = llr_get(request, &f_web_search_options);
    if (options == NULL) {
        return -1;
    }
    if (options != Py_None) {
        g->flags |= F_WEB_SEARCH_OPTIONS;
    }
    Py_DECREF(options);
    return 0;
}

static int
gather_responses(Gathered *g, PyObject *request)
{
    PyObject *instructions = llr_get(request, &f_instructions);
    if (instructions == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(instructions);
    if (truth > 0) {
        g->items++;
        truth = llr_add(g, instructions, 0, 1);
    }
    Py_DECREF(instructions);
    if (truth < 0) {
        return -1;
    }
    PyObject *input = llr_get(request, &f_input);
    if (input == NULL) {
        return -1;
    }
    int rc;
    if (PyUnicode_Check(input)) {
        g->items++;
        rc = llr_add(g, input, 1, 1);
    } else {
        rc = each(g, request, &f_input, add_input_item);
    }
    Py_DECREF(input);
    return rc < 0 ? -1 : each(g, request, &f_tools, llr_add_tool);
}

static int
init_strings(void)
{
    if (s_separator != NULL) {
        return 0;
    }
    s_separator = PyUnicode_InternFromString("\n\n");
    return s_separator == NULL ? -1 : 0;
}

/* gather(request, chat) -> (task, tokens, items, flags, names) */
PyObject *
llr_gather(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "gather() takes (request, chat)");
        return NULL;
    }
    int chat = PyObject_IsTrue(args[1]);
    if (chat < 0 || init_strings() < 0) {
        return NULL;
    }
    Gathered g = {PyList_New(0), PyList_New(0), 0, 0, 0};
    PyObject *result = NULL;
    if (g.task == NULL || g.tool_names == NULL) {
        goto done;
    }
    if ((chat ? gather_chat : gather_responses)(&g, args[0]) < 0) {
        goto done;
    }
    PyObject *task = PyUnicode_Join(s_separator, g.task);
    PyObject *names = task == NULL ? NULL : PyList_AsTuple(g.tool_names);
    if (names != NULL) {
        result = Py_BuildValue("(NLLlN)", task, g.tokens, g.items, g.flags, names);
    } else {
        Py_XDECREF(task);
    }
done:
    Py_XDECREF(g.task);
    Py_XDECREF(g.tool_names);
    return result;
}
