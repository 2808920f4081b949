/*
 * Shared by body.c (the JSON walk), lex.c (its tokens), payload.c (buffers,
 * UTF-8, base64, media types) and keys.c (the key sets): the state of one
 * body's read.
 */

#ifndef LLR_BODY_H
#define LLR_BODY_H

#include "native.h"

/* Bits of the unreadable result, as in body.py. */
enum { U_FILE = 1, U_AUDIO = 2, U_IMAGE = 4, U_BODY = 8 };

/* A growable byte buffer (PyMem). */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

int llr_buf_reserve(Buf *b, Py_ssize_t extra);
int llr_buf_put(Buf *b, const char *s, Py_ssize_t n);

/* Strict UTF-8: the length of the sequence at s (*s >= 0x80), 0 if invalid;
 * whether n bytes are valid; one code point appended (room reserved). */
Py_ssize_t llr_utf8_seq(const unsigned char *s, const unsigned char *end);
int llr_utf8_valid(const unsigned char *s, Py_ssize_t n);
void llr_put_utf8(Buf *b, Py_UCS4 c);

/* One body's read: the input cursor, the texts, scratch buffers, the bits. */
typedef struct {
    const unsigned char *p, *end;
    Buf out;  /* the texts */
    Buf key;  /* the current key, when it had to be unescaped */
    const char *key_data; /* the current key: into the body or `key` */
    Py_ssize_t key_len;
    Buf val;  /* a short value read before it is written */
    Buf raw;  /* decoded base64 */
    int flags;
    int malformed;
    /* (array depth, element index) of the text part written last */
    int glue_valid;
    int glue_depth;
    Py_ssize_t glue_index;
} Walk;

/* lex.c: JSON tokens at w->p. Each returns 0, or -1 with w->malformed set
 * (llr_bad; no exception) or with an exception set. */
int llr_bad(Walk *w);
void llr_skip_ws(Walk *w);
const unsigned char *llr_skip_plain(const unsigned char *p, const unsigned char *end);
/* the string at w->p unescaped as UTF-8 onto dst (NULL: only checked) */
int llr_string(Walk *w, Buf *dst);
/* a number, true, false or null */
int llr_scalar(Walk *w);
/* whether the container at w->p has anything in it */
int llr_nonempty(const Walk *w);

/* payload.c: body._Walker.payload over w->out[start:], rewritten in place
 * (a `file_data` value when file_data); 0, or -1 with an exception. */
int llr_payload(Walk *w, Py_ssize_t start, int file_data);

/* keys.c: what a key is to the walk (bits), and the text media types. */
enum {
    K_STRUCTURAL = 1,
    K_SKIP = 2,
    K_TYPE = 4,
    K_FILE_REF = 8, /* file_id, file_url */
    K_IMAGE_URL = 16,
    K_INPUT_AUDIO = 32,
    K_DATA = 64,
    K_TEXT = 128,
    K_FILE_DATA = 256,
};
int llr_key_bits(const char *key, Py_ssize_t n);
int llr_is_text_type(const char *type, Py_ssize_t n);
int llr_init_keys(void);

/* body.c, normalize.c */
PyObject *llr_read_body(PyObject *module, PyObject *body);
PyObject *llr_normalize(PyObject *module, PyObject *text);

#endif
