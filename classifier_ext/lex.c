/*
 * Lexing for the body read (body.c): strict RFC 8259 JSON tokens over the
 * raw bytes. Strings are UTF-8 validated (as Python's "utf-8" codec does)
 * and unescaped, a surrogate pair into one code point, a lone surrogate
 * refused; plain ASCII runs are skipped eight bytes at a time. Twin of the
 * `_Parser` of router/classify/body.py.
 */

#include "body.h"

#include <stdint.h>
#include <string.h>

/* Functions return 0, or -1: with w->malformed set (no exception) or
 * with an exception set. */
int
llr_bad(Walk *w)
{
    w->malformed = 1;
    return -1;
}

void
llr_skip_ws(Walk *w)
{
    while (w->p < w->end &&
           (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r')) {
        w->p++;
    }
}

static int
hex4(const unsigned char *s, Py_UCS4 *out)
{
    Py_UCS4 v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        int d = IS_DIGIT(c)              ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + (Py_UCS4)d;
    }
    *out = v;
    return 0;
}

static inline int
plain(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

/* The first byte from p that is not plain ASCII string content, eight
 * bytes at a time while none is (a quote, a backslash, a control byte or
 * a byte >= 0x80 in the word stops the word loop). */
const unsigned char *
llr_skip_plain(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t x, q, b;
        memcpy(&x, p, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        uint64_t stop = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) |
                        ((b - ones) & ~b) | x;
        if (stop & highs) {
            break;
        }
        p += 8;
    }
    while (p < end && plain(*p)) {
        p++;
    }
    return p;
}

/* The string at w->p (its opening quote), unescaped as UTF-8 onto `dst`
 * (NULL: only checked). */
int
llr_string(Walk *w, Buf *dst)
{
    const unsigned char *p = w->p + 1, *end = w->end;
    for (;;) {
        const unsigned char *run = p;
        p = llr_skip_plain(p, end);
        while (p < end && *p >= 0x80) {
            Py_ssize_t k = llr_utf8_seq(p, end);
            if (k == 0) {
                return llr_bad(w);
            }
            p = llr_skip_plain(p + k, end);
        }
        if (dst != NULL && llr_buf_put(dst, (const char *)run, p - run) < 0) {
            return -1;
        }
        if (p >= end || *p < 0x20) {
            return llr_bad(w);
        }
        if (*p == '"') {
            w->p = p + 1;
            return 0;
        }
        if (end - p < 2) {
            return llr_bad(w);
        }
        Py_UCS4 c;
        switch (p[1]) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (end - p < 6 || hex4(p + 2, &c) < 0) {
                return llr_bad(w);
            }
            if (c >= 0xDC00 && c <= 0xDFFF) {
                return llr_bad(w);
            }
            if (c >= 0xD800 && c <= 0xDBFF) {
                Py_UCS4 low;
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                    hex4(p + 8, &low) < 0 || low < 0xDC00 || low > 0xDFFF) {
                    return llr_bad(w);
                }
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
            }
            p += 4;
            break;
        default:
            return llr_bad(w);
        }
        p += 2;
        if (dst != NULL) {
            if (llr_buf_reserve(dst, 4) < 0) {
                return -1;
            }
            llr_put_utf8(dst, c);
        }
    }
}

static int
literal(Walk *w, const char *word, Py_ssize_t n)
{
    if (w->end - w->p < n || memcmp(w->p, word, (size_t)n) != 0) {
        return llr_bad(w);
    }
    w->p += n;
    return 0;
}

static int
digits(Walk *w)
{
    const unsigned char *start = w->p;
    while (w->p < w->end && IS_DIGIT(*w->p)) {
        w->p++;
    }
    return w->p > start ? 0 : llr_bad(w);
}

static int
number(Walk *w)
{
    if (*w->p == '-') {
        w->p++;
    }
    if (w->p < w->end && *w->p == '0') {
        w->p++;
    } else if (digits(w) < 0) {
        return -1;
    }
    if (w->p < w->end && *w->p == '.') {
        w->p++;
        if (digits(w) < 0) {
            return -1;
        }
    }
    if (w->p < w->end && (*w->p == 'e' || *w->p == 'E')) {
        w->p++;
        if (w->p < w->end && (*w->p == '+' || *w->p == '-')) {
            w->p++;
        }
        return digits(w);
    }
    return 0;
}

/* A scalar other than a string. */
int
llr_scalar(Walk *w)
{
    switch (*w->p) {
    case 't': return literal(w, "true", 4);
    case 'f': return literal(w, "false", 5);
    case 'n': return literal(w, "null", 4);
    default:
        if (*w->p == '-' || IS_DIGIT(*w->p)) {
            return number(w);
        }
        return llr_bad(w);
    }
}

/* Whether the container at w->p has anything in it. */
int
llr_nonempty(const Walk *w)
{
    const unsigned char *p = w->p + 1;
    while (p < w->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p < w->end && *p != '}' && *p != ']';
}

