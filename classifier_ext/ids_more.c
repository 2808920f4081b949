/*
 * National identifiers outside Europe, and US bank and provider numbers:
 * twins of the checks of router/classify/ids.py (ids.c holds the European
 * ones and the entry; tests/unit/test_classify_ids.py holds both equal).
 */

#include "ids.h"

static const char verhoeff_d[10][11] = {
    "0123456789", "1234067895", "2340178956", "3401289567", "4012395678",
    "5987604321", "6598710432", "7659821043", "8765932104", "9876543210",
};
static const char verhoeff_p[8][11] = {
    "0123456789", "1576283094", "5803796142", "8916043527",
    "9453126870", "4286573901", "2793806415", "7046913258",
};

int
llr_aadhaar_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 12 || v[0] < 2 || all_same(v, 12)) {
        return 0;
    }
    int c = 0;
    for (int i = 0; i < 12; i++) {
        c = verhoeff_d[c][verhoeff_p[i % 8][v[11 - i]] - '0'] - '0';
    }
    return c == 0;
}

int
llr_pan_ok(const Span *s)
{
    char v[10];
    if (id_compact(s, v, 10) != 10) {
        return 0;
    }
    for (int i = 0; i < 5; i++) {
        if (!is_upper(v[i])) {
            return 0;
        }
    }
    return strchr("ABCFGHJLPT", v[3]) != NULL && all_d(v, 5, 9) && is_upper(v[9]);
}

int
llr_au_tfn_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w9[] = {1, 4, 3, 7, 5, 8, 6, 9, 10};
    static const int w8[] = {10, 7, 8, 4, 6, 3, 5, 1};
    Py_ssize_t n = id_digits(s, v);
    if (n > ID_CAP || all_same(v, n)) {
        return 0;
    }
    if (n == 9) {
        return weighted(v, w9, 9) % 11 == 0;
    }
    return n == 8 && weighted(v, w8, 8) % 11 == 0;
}

int
llr_au_medicare_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {1, 3, 7, 9, 1, 3, 7, 9};
    Py_ssize_t n = id_digits(s, v);
    if ((n != 10 && n != 11) || v[0] < 2 || v[0] > 6 || v[9] == 0) {
        return 0;
    }
    return weighted(v, w, 8) % 10 == v[8];
}

int
llr_ca_sin_ok(const Span *s)
{
    int v[ID_CAP];
    return id_digits(s, v) == 9 && v[0] != 0 && v[0] != 8 && !all_same(v, 9) &&
           luhn_values(v, 9);
}

static int
mod11_digit(const int *v, int n, int top)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += v[i] * (top - i);
    }
    return total * 10 % 11 % 10;
}

int
llr_cpf_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 11 || all_same(v, 11)) {
        return 0;
    }
    return mod11_digit(v, 9, 10) == v[9] && mod11_digit(v, 10, 11) == v[10];
}

static int
cnpj_digit(const int *v, int n)
{
    static const int w[] = {6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
    int r = weighted(v, w + (13 - n), n) % 11;
    return r < 2 ? 0 : 11 - r;
}

int
llr_cnpj_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 14 || all_same(v, 14)) {
        return 0;
    }
    return cnpj_digit(v, 12) == v[12] && cnpj_digit(v, 13) == v[13];
}

int
llr_sg_nric_ok(const Span *s)
{
    char v[9];
    static const int w[] = {2, 7, 6, 5, 4, 3, 2};
    if (id_compact(s, v, 9) != 9 || !all_d(v, 1, 8)) {
        return 0;
    }
    const char *table;
    if (v[0] == 'S' || v[0] == 'T') {
        table = "JZIHGFEDCBA";
    } else if (v[0] == 'F' || v[0] == 'G') {
        table = "XWUTRQPNMLK";
    } else {
        return 0;
    }
    int total = v[0] == 'T' || v[0] == 'G' ? 4 : 0;
    for (int i = 0; i < 7; i++) {
        total += (v[1 + i] - '0') * w[i];
    }
    return table[total % 11] == v[8];
}

int
llr_kr_rrn_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 13 || v[6] < 1 || v[6] > 8 || all_same(v + 7, 6)) {
        return 0;
    }
    return date_ok(v[4] * 10 + v[5], v[2] * 10 + v[3]);
}

int
llr_aba_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {3, 7, 1, 3, 7, 1, 3, 7, 1};
    if (id_digits(s, v) != 9 || all_same(v, 9)) {
        return 0;
    }
    int head = v[0] * 10 + v[1];
    if (!(head <= 12 || (head >= 21 && head <= 32) || (head >= 61 && head <= 72) ||
          head == 80)) {
        return 0;
    }
    return weighted(v, w, 9) % 10 == 0;
}

int
llr_npi_ok(const Span *s)
{
    int v[ID_CAP + 5] = {8, 0, 8, 4, 0};
    if (id_digits(s, v + 5) != 10 || (v[5] != 1 && v[5] != 2)) {
        return 0;
    }
    return luhn_values(v, 15);
}

int
llr_dea_ok(const Span *s)
{
    char v[9];
    if (id_compact(s, v, 9) != 9 || strchr("ABCDEFGHJKLMPRSTUX", v[0]) == NULL ||
        !all_d(v, 2, 9)) {
        return 0;
    }
    if (!(v[1] == '9' || is_upper(v[1]))) {
        return 0;
    }
    int d[7];
    for (int i = 0; i < 7; i++) {
        d[i] = v[2 + i] - '0';
    }
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6];
}
