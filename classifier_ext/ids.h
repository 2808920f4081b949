/*
 * Shared by ids.c and ids_more.c: how the national-identifier checks read a
 * span (ids.digits, ids.compact) and the arithmetic they share.
 */

#ifndef LLR_IDS_H
#define LLR_IDS_H

#include "native.h"

#include <string.h>

#define ID_CAP 32
/* A code point that is no ASCII letter or digit: fails every test below. */
#define OTHER '\x01'

/* ids.digits: the span's ASCII digits as values; how many in all. */
static inline Py_ssize_t
id_digits(const Span *s, int *out)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->len; i++) {
        Py_UCS4 c = AT(s, i);
        if (IS_DIGIT(c)) {
            if (n < ID_CAP) {
                out[n] = (int)(c - '0');
            }
            n++;
        }
    }
    return n;
}

/* ids.compact: the first `length` code points that are no separator, ASCII
 * letters upper-cased, anything else non-ASCII as OTHER; how many. */
static inline Py_ssize_t
id_compact(const Span *s, char *out, Py_ssize_t length)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->len && n < length; i++) {
        Py_UCS4 c = AT(s, i);
        if (c == ' ' || c == '\t' || c == '.' || c == '-' || c == '/') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c -= 32;
        }
        out[n++] = c > 0 && c < 128 ? (char)c : OTHER;
    }
    return n;
}

static inline int
is_d(char c)
{
    return c >= '0' && c <= '9';
}

static inline int
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static inline int
all_d(const char *v, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (!is_d(v[i])) {
            return 0;
        }
    }
    return 1;
}

static inline int
all_same(const int *v, Py_ssize_t n)
{
    for (Py_ssize_t i = 1; i < n; i++) {
        if (v[i] != v[0]) {
            return 0;
        }
    }
    return 1;
}

static inline int
date_ok(int day, int month)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static inline int
weighted(const int *v, const int *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += v[i] * w[i];
    }
    return total;
}

static inline long long
number_of(const int *v, int from, int to)
{
    long long x = 0;
    for (int i = from; i < to; i++) {
        x = x * 10 + v[i];
    }
    return x;
}

static inline int
luhn_values(const int *v, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        int d = v[n - 1 - i] * (i % 2 ? 2 : 1);
        total += d > 9 ? d - 9 : d;
    }
    return total % 10 == 0;
}

/* ids_more.c: the checks of the kinds outside Europe, ids.ID_CHECKS' order. */
int llr_aadhaar_ok(const Span *s);
int llr_pan_ok(const Span *s);
int llr_au_tfn_ok(const Span *s);
int llr_au_medicare_ok(const Span *s);
int llr_ca_sin_ok(const Span *s);
int llr_cpf_ok(const Span *s);
int llr_cnpj_ok(const Span *s);
int llr_sg_nric_ok(const Span *s);
int llr_kr_rrn_ok(const Span *s);
int llr_aba_ok(const Span *s);
int llr_npi_ok(const Span *s);
int llr_dea_ok(const Span *s);

#endif
