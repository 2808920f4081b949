/*
 * Payloads of the body read: byte buffers, strict UTF-8, base64 and media
 * types (twins of body.py `_b64`, `_text_of`, `_Walker.payload` and
 * `_Walker.media`).
 */

#include "body.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * Buffers
 * ------------------------------------------------------------------------ */

int
llr_buf_reserve(Buf *b, Py_ssize_t extra)
{
    if (b->len + extra <= b->cap) {
        return 0;
    }
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

int
llr_buf_put(Buf *b, const char *s, Py_ssize_t n)
{
    if (n > 0) {
        if (llr_buf_reserve(b, n) < 0) {
            return -1;
        }
        memcpy(b->data + b->len, s, (size_t)n);
        b->len += n;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Strict UTF-8 (Python's "utf-8" codec: no overlong form, no surrogate,
 * nothing past U+10FFFF)
 * ------------------------------------------------------------------------ */

/* The length of the valid sequence at s (s[0] >= 0x80), or 0. */
Py_ssize_t
llr_utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned char c = s[0];
    Py_ssize_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (end - s < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (Py_ssize_t i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

int
llr_utf8_valid(const unsigned char *s, Py_ssize_t n)
{
    const unsigned char *end = s + n;
    while (s < end) {
        if (*s < 0x80) {
            s++;
            continue;
        }
        Py_ssize_t k = llr_utf8_seq(s, end);
        if (k == 0) {
            return 0;
        }
        s += k;
    }
    return 1;
}

void
llr_put_utf8(Buf *b, Py_UCS4 c)
{
    char *o = b->data + b->len;
    Py_ssize_t *len = &b->len;
    if (c < 0x80) {
        o[0] = (char)c;
        *len += 1;
    } else if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        *len += 2;
    } else if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        *len += 3;
    } else {
        o[0] = (char)(0xF0 | (c >> 18));
        o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (char)(0x80 | (c & 0x3F));
        *len += 4;
    }
}


static int
b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (IS_DIGIT(c)) return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* body._b64 onto w->raw: 1 decoded, 0 not base64. */
static int
b64(Walk *w, const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t core = n;
    while (core > 0 && n - core < 2 && s[core - 1] == '=') {
        core--;
    }
    for (Py_ssize_t i = 0; i < core; i++) {
        if (b64_value(s[i]) < 0) {
            return 0;
        }
    }
    if (core % 4 == 1) {
        return 0;
    }
    w->raw.len = 0;
    if (llr_buf_reserve(&w->raw, core / 4 * 3 + 3) < 0) {
        return -1;
    }
    unsigned char *o = (unsigned char *)w->raw.data;
    Py_ssize_t k = 0;
    unsigned int acc = 0;
    int bits = 0;
    for (Py_ssize_t i = 0; i < core; i++) {
        acc = (acc << 6) | (unsigned int)b64_value(s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    w->raw.len = k;
    return 1;
}

static int
starts(const char *s, Py_ssize_t n, const char *prefix)
{
    Py_ssize_t k = (Py_ssize_t)strlen(prefix);
    return n >= k && memcmp(s, prefix, (size_t)k) == 0;
}

static int
ends(const char *s, Py_ssize_t n, const char *suffix)
{
    Py_ssize_t k = (Py_ssize_t)strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, (size_t)k) == 0;
}

/* body._text_of over w->raw */
static int
raw_is_text(const Walk *w)
{
    const unsigned char *s = (const unsigned char *)w->raw.data;
    for (Py_ssize_t i = 0; i < w->raw.len; i++) {
        if (s[i] <= 0x08 || (s[i] >= 0x0E && s[i] <= 0x1F)) {
            return 0;
        }
    }
    return llr_utf8_valid(s, w->raw.len);
}

/* body._Walker.media for the decoded w->raw and a lowered media type:
 * the text written over out[start:], or nothing. */
static int
media(Walk *w, const char *type, Py_ssize_t n, Py_ssize_t start)
{
    if (starts(type, n, "image/")) {
        w->out.len = start;
        w->flags |= U_IMAGE;
        return 0;
    }
    if (starts(type, n, "audio/")) {
        w->out.len = start;
        w->flags |= U_AUDIO;
        return 0;
    }
    int text_type = starts(type, n, "text/") || llr_is_text_type(type, n) ||
                    ends(type, n, "+json") || ends(type, n, "+xml") ||
                    ends(type, n, "+yaml");
    w->out.len = start;
    if (!text_type || !raw_is_text(w)) {
        w->flags |= U_FILE;
        return 0;
    }
    return llr_buf_put(&w->out, w->raw.data, w->raw.len);
}

static char
lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* For a `data:` URL with an ASCII header whose last parameter is base64:
 * the offset of its comma and the length of its media type; else -1. */
static Py_ssize_t
base64_data_url(const char *s, Py_ssize_t n, Py_ssize_t *type_len)
{
    static const char scheme[] = "data:";
    if (n < 5) {
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        if (lower(s[i]) != scheme[i]) {
            return -1;
        }
    }
    const char *comma = memchr(s + 5, ',', (size_t)(n - 5));
    if (comma == NULL) {
        return -1;
    }
    const char *semi = NULL, *first = NULL;
    for (const char *c = s + 5; c < comma; c++) {
        if ((unsigned char)*c >= 0x80) {
            return -1;
        }
        if (*c == ';') {
            semi = c;
            first = first == NULL ? c : first;
        }
    }
    static const char b64name[] = "base64";
    if (semi == NULL || comma - (semi + 1) != 6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        if (lower(semi[1 + i]) != b64name[i]) {
            return -1;
        }
    }
    *type_len = first - (s + 5);
    return comma - s;
}

int
llr_payload(Walk *w, Py_ssize_t start, int file_data)
{
    char *s = w->out.data + start;
    Py_ssize_t n = w->out.len - start, type_len = 0;
    Py_ssize_t comma = base64_data_url(s, n, &type_len);
    if (comma >= 0) {
        int got = b64(w, (const unsigned char *)s + comma + 1, n - comma - 1);
        if (got < 0) {
            return -1;
        }
        if (got) {
            char type[64];
            if (type_len >= (Py_ssize_t)sizeof(type)) {
                /* no media type this long is an image, audio or text one
                 * that is not caught by its prefix: lowered in place */
                for (Py_ssize_t i = 0; i < type_len; i++) {
                    s[5 + i] = lower(s[5 + i]);
                }
                return media(w, s + 5, type_len, start);
            }
            for (Py_ssize_t i = 0; i < type_len; i++) {
                type[i] = lower(s[5 + i]);
            }
            return media(w, type, type_len, start);
        }
    }
    if (file_data) {
        int got = b64(w, (const unsigned char *)s, n);
        if (got != 0) {
            return got < 0 ? -1 : media(w, "", 0, start);
        }
    }
    return 0;
}
