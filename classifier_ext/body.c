/*
 * Body: raw request bytes in, the sensitive text and the unreadable bits out.
 *
 * Twin of router/classify/body.py `read_body` (the specification): a strict
 * JSON walk (RFC 8259, UTF-8 validated, escapes decoded, no lone surrogate,
 * containers nested below MAX_DEPTH) over the bytes the request arrived as,
 * so nothing is parsed twice. Texts are written as UTF-8 into one buffer,
 * in document order, joined as the reference joins them, and decoded into
 * one str at the end. Tokens are read by lex.c, keys looked up in keys.c,
 * payloads decoded in payload.c.
 */

#include "body.h"

#include <string.h>

#define MAX_DEPTH 128

static const char SEP[] = "\n\n";

/* ------------------------------------------------------------------------
 * The walker
 * ------------------------------------------------------------------------ */

typedef struct {
    int depth;
    Py_ssize_t index;
} Part;

/* --- emitting texts ---------------------------------------------------- */

/* Opens a text: the separator unless it is glued to the last text part.
 * Returns the length to roll back to when the text stays empty. */
static Py_ssize_t
open_text(Walk *w, const Part *part)
{
    Py_ssize_t mark = w->out.len;
    int glued = part != NULL && w->glue_valid && w->glue_depth == part->depth &&
                w->glue_index == part->index - 1;
    if (w->out.len > 0 && !glued && llr_buf_put(&w->out, SEP, 2) < 0) {
        return -1;
    }
    return mark;
}

/* Closes a text opened at `mark` whose content starts at `start`. */
static void
close_text(Walk *w, Py_ssize_t mark, Py_ssize_t start, const Part *part)
{
    if (w->out.len == start) {
        w->out.len = mark;
        return;
    }
    w->glue_valid = part != NULL;
    if (part != NULL) {
        w->glue_depth = part->depth;
        w->glue_index = part->index;
    }
}


/* --- the walk ----------------------------------------------------------- */

static int value(Walk *w, int key, int data, int depth, const Part *part);

/* A string value (at w->p) of a key with `bits` (0: none), in `data` or in
 * structure, as body._Walker reads it outside an object. */
static int
string_item(Walk *w, int bits, int data)
{
    if (!data && (bits & K_SKIP)) {
        return llr_string(w, NULL);
    }
    Py_ssize_t mark = open_text(w, NULL);
    if (mark < 0) {
        return -1;
    }
    Py_ssize_t start = w->out.len;
    if (llr_string(w, &w->out) < 0 || llr_payload(w, start, bits & K_FILE_DATA) < 0) {
        return -1;
    }
    close_text(w, mark, start, NULL);
    return 0;
}

static int
array(Walk *w, int key, int data, int depth)
{
    w->p++;
    llr_skip_ws(w);
    if (w->p < w->end && *w->p == ']') {
        w->p++;
        w->glue_valid = 0;
        return 0;
    }
    for (Py_ssize_t i = 0;; i++) {
        llr_skip_ws(w);
        if (w->p >= w->end) {
            return llr_bad(w);
        }
        Part part = {depth, i};
        int rc = *w->p == '"' ? string_item(w, key, data)
                              : value(w, key, data, depth + 1, &part);
        if (rc < 0) {
            return -1;
        }
        llr_skip_ws(w);
        if (w->p < w->end && *w->p == ',') {
            w->p++;
            continue;
        }
        if (w->p < w->end && *w->p == ']') {
            w->p++;
            w->glue_valid = 0;
            return 0;
        }
        return llr_bad(w);
    }
}

/* The key at w->p: read in place when it is plain ASCII (most are), else
 * unescaped into w->key. */
static int
key(Walk *w)
{
    const unsigned char *start = w->p + 1;
    const unsigned char *p = llr_skip_plain(start, w->end);
    if (p < w->end && *p == '"') {
        w->key_data = (const char *)start;
        w->key_len = p - start;
        w->p = p + 1;
        return 0;
    }
    w->key.len = 0;
    if (llr_string(w, &w->key) < 0) {
        return -1;
    }
    w->key_data = w->key.data;
    w->key_len = w->key.len;
    return 0;
}

/* One string member: the current key with `bits`. */
static int
string_member(Walk *w, int bits, int parent, int data, const Part *part,
              int *file_ref, int *image_type)
{
    int keyed = data || !(bits & K_STRUCTURAL);
    int skip = (!data && (bits & K_SKIP)) ||
               ((bits & K_DATA) && (parent & K_INPUT_AUDIO));
    int looked_at = bits & (K_TYPE | K_FILE_REF | K_IMAGE_URL);
    Buf *into = looked_at ? &w->val : skip ? NULL : &w->out;
    w->val.len = 0;
    Py_ssize_t mark = -1, start = 0;
    if (into == &w->out) {
        if ((mark = open_text(w, keyed ? NULL : (bits & K_TEXT) ? part : NULL)) < 0) {
            return -1;
        }
        start = w->out.len;
        if (keyed && (llr_buf_put(&w->out, w->key_data, w->key_len) < 0 ||
                      llr_buf_put(&w->out, ": ", 2) < 0)) {
            return -1;
        }
    }
    Py_ssize_t vstart = w->out.len;
    if (llr_string(w, into) < 0) {
        return -1;
    }
    if (looked_at) {
        if (bits & K_TYPE) {
            const char *v = w->val.data;
            *image_type = 0;
            for (Py_ssize_t i = 0; v != NULL && i + 5 <= w->val.len; i++) {
                if (memcmp(v + i, "image", 5) == 0) {
                    *image_type = 1;
                    break;
                }
            }
        } else if ((bits & K_FILE_REF) && w->val.len > 0) {
            *file_ref = 1;
        } else if ((bits & K_IMAGE_URL) && w->val.len > 0) {
            w->flags |= U_IMAGE;
        }
    }
    if (into != &w->out) {
        if (skip && !keyed) {
            return 0;
        }
        if ((mark = open_text(w, keyed ? NULL : (bits & K_TEXT) ? part : NULL)) < 0) {
            return -1;
        }
        start = w->out.len;
        if (keyed && (llr_buf_put(&w->out, w->key_data, w->key_len) < 0 ||
                      llr_buf_put(&w->out, ": ", 2) < 0)) {
            return -1;
        }
        vstart = w->out.len;
        if (!skip && llr_buf_put(&w->out, w->val.data, w->val.len) < 0) {
            return -1;
        }
    }
    if (!skip && llr_payload(w, vstart, bits & K_FILE_DATA) < 0) {
        return -1;
    }
    if (keyed && w->out.len == vstart) {
        w->out.len = vstart - 2; /* no text: the key alone */
    }
    close_text(w, mark, start, keyed ? NULL : (bits & K_TEXT) ? part : NULL);
    return 0;
}

/* Writes the key alone as a text. */
static int
key_text(Walk *w)
{
    Py_ssize_t mark = open_text(w, NULL);
    if (mark < 0) {
        return -1;
    }
    Py_ssize_t start = w->out.len;
    if (llr_buf_put(&w->out, w->key_data, w->key_len) < 0) {
        return -1;
    }
    close_text(w, mark, start, NULL);
    return 0;
}

static int
object(Walk *w, int parent, int data, int depth, const Part *part)
{
    int file_ref = 0, image_type = 0;
    w->p++;
    llr_skip_ws(w);
    if (w->p < w->end && *w->p == '}') {
        w->p++;
        return 0;
    }
    for (;;) {
        llr_skip_ws(w);
        if (w->p >= w->end || *w->p != '"') {
            return llr_bad(w);
        }
        if (key(w) < 0) {
            return -1;
        }
        int bits = llr_key_bits(w->key_data, w->key_len);
        llr_skip_ws(w);
        if (w->p >= w->end || *w->p != ':') {
            return llr_bad(w);
        }
        w->p++;
        llr_skip_ws(w);
        if (w->p >= w->end) {
            return llr_bad(w);
        }
        unsigned char c = *w->p;
        int rc;
        if (c == '"') {
            rc = string_member(w, bits, parent, data, part, &file_ref, &image_type);
        } else if (c == '{' || c == '[') {
            int keyed = data || !(bits & K_STRUCTURAL);
            rc = keyed ? key_text(w) : 0;
            if ((bits & K_IMAGE_URL) && llr_nonempty(w)) {
                w->flags |= U_IMAGE;
            } else if ((bits & K_INPUT_AUDIO) && c == '{') {
                w->flags |= U_AUDIO;
            }
            if (rc == 0) {
                rc = value(w, bits, keyed, depth + 1, NULL);
            }
        } else {
            rc = data ? key_text(w) : 0;
            if (rc == 0) {
                rc = llr_scalar(w);
            }
        }
        if (rc < 0) {
            return -1;
        }
        llr_skip_ws(w);
        if (w->p < w->end && *w->p == ',') {
            w->p++;
            continue;
        }
        if (w->p < w->end && *w->p == '}') {
            w->p++;
            break;
        }
        return llr_bad(w);
    }
    if (file_ref) {
        w->flags |= image_type ? U_IMAGE : U_FILE;
    }
    return 0;
}

/* body._Walker.value for the value at w->p (not a string inside a
 * container: those are read where they are). */
static int
value(Walk *w, int key, int data, int depth, const Part *part)
{
    unsigned char c = *w->p;
    if (c == '{' || c == '[') {
        if (depth >= MAX_DEPTH) {
            return llr_bad(w);
        }
        return c == '{' ? object(w, key, data, depth, part)
                        : array(w, key, data, depth);
    }
    if (c == '"') {
        return string_item(w, key, data);
    }
    return llr_scalar(w);
}

/* read_body(body) -> (text, unreadable) */
PyObject *
llr_read_body(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Walk w;
    memset(&w, 0, sizeof(w));
    w.p = view.buf;
    w.end = w.p + view.len;
    PyObject *result = NULL;
    /* the texts are never much longer than the body: one allocation */
    if (llr_buf_reserve(&w.out, view.len + 64) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    llr_skip_ws(&w);
    int rc = w.p < w.end ? value(&w, 0, 0, 0, NULL) : llr_bad(&w);
    if (rc == 0) {
        llr_skip_ws(&w);
        if (w.p != w.end) {
            rc = llr_bad(&w);
        }
    }
    if (rc == 0 || w.malformed) {
        PyObject *text = w.malformed ? PyUnicode_New(0, 0)
                                     : PyUnicode_DecodeUTF8(w.out.data, w.out.len,
                                                            "strict");
        int flags = w.malformed ? U_BODY : w.flags;
        result = text == NULL ? NULL : Py_BuildValue("(Ni)", text, flags);
    }
    PyBuffer_Release(&view);
    PyMem_Free(w.out.data);
    PyMem_Free(w.key.data);
    PyMem_Free(w.val.data);
    PyMem_Free(w.raw.data);
    return result;
}
