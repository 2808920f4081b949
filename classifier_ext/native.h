/*
 * router.classify._native: declarations shared by the extension's sources.
 *
 * native.c   module, token estimate, Luhn
 * gather.c   task texts and facts of a decoded request  (twin of _reference.gather)
 * body.c     sensitive texts of the raw body        (twin of body.read_body;
 *            lex.c, payload.c, keys.c and body.h are its parts)
 * normalize.c the sensitive text normalised         (twin of normalize.normalize)
 * tools.c    the tool definitions part of it         (gather.h is shared)
 * fields.c   fast field reads for gather.c
 * spans.c    span-only validators                    (twins of checks.py)
 * ids.c      national identifier checks              (twins of ids.py)
 * ids_more.c the same, outside Europe; ids.h is shared
 * shapes.c   JWT check, line-shape counts            (twins of checks.py, scan)
 * hits.c     hyperscan match collector, scan buffer
 * located.c  clusters of located.Matches and their near walk
 */

#ifndef LLR_NATIVE_H
#define LLR_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A str's code points, read with AT(span, i). */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len;
} Span;

#define AT(s, i) PyUnicode_READ((s)->kind, (s)->data, (i))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* Texts this long are counted with the GIL released (the loops read only the
 * str's immutable data), so a large body classified in a worker thread lets
 * the event loop's thread run; shorter ones are not worth the switch. */
#define LLR_NOGIL_AT 65536

/* A group separator of card and IBAN numbers. */
static inline int
llr_is_sep(Py_UCS4 c)
{
    return c == ' ' || c == '-';
}

/* native.c: the token estimate of one str (tokens.estimate_tokens), -1 on
 * error with an exception set. */
long long llr_estimate_tokens(PyObject *text);

/* native.c: Luhn checksum over `n` ASCII digits (validators.luhn_ok). */
int llr_luhn(const Py_UCS4 *digits, Py_ssize_t n);

/* fields.c: getattr(obj, f->name) with a per-field descriptor cache. */
typedef struct {
    const char *name;
    PyObject *interned;
    PyTypeObject *type;
    PyObject *descr;
} LlrField;

PyObject *llr_get(PyObject *obj, LlrField *f);

/* gather.c */
PyObject *llr_gather(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* cards.c; llr_init_cards fills its issuer table, once, at import */
void llr_init_cards(void);
int llr_check_card(const Span *s, Py_ssize_t *starts, Py_ssize_t *lens);
PyObject *llr_count_card_groups(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs);

/* spans.c, shapes.c */
PyObject *llr_count_valid(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *llr_check_jwt(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *llr_count_lines(PyObject *module, PyObject *const *args,
                          Py_ssize_t nargs);

/* ids.c: the check of ids.ID_CHECKS' kind-th entry over a span (0 or 1). */
#define LLR_ID_KINDS 25
int llr_check_id(int kind, const Span *s);

/* located.c */
PyObject *llr_next_near(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *llr_cluster_firsts(PyObject *module, PyObject *const *args,
                             Py_ssize_t nargs);

/* hits.c: adds the types Hits and Utf8 to the module; 0 or -1. */
int llr_add_hit_types(PyObject *module);

#endif
