/*
 * National identifiers: the span checks of router/classify/ids.py in C,
 * one per kind in the order of ids.ID_CHECKS (spans.c's count_valid maps
 * its kinds past the others here). Each reads the span as ids.digits or
 * ids.compact does; tests/unit/test_classify_ids.py holds both equal.
 */

#include "native.h"

#include <string.h>

#define ID_CAP 32
/* A code point that is no ASCII letter or digit: fails every test below. */
#define OTHER '\x01'

/* ids.digits: the span's ASCII digits as values; how many in all. */
static Py_ssize_t
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
static Py_ssize_t
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

static int
is_d(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int
all_d(const char *v, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (!is_d(v[i])) {
            return 0;
        }
    }
    return 1;
}

static int
all_same(const int *v, Py_ssize_t n)
{
    for (Py_ssize_t i = 1; i < n; i++) {
        if (v[i] != v[0]) {
            return 0;
        }
    }
    return 1;
}

static int
date_ok(int day, int month)
{
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static int
weighted(const int *v, const int *w, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += v[i] * w[i];
    }
    return total;
}

static long long
number_of(const int *v, int from, int to)
{
    long long x = 0;
    for (int i = from; i < to; i++) {
        x = x * 10 + v[i];
    }
    return x;
}

static int
luhn_values(const int *v, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        int d = v[n - 1 - i] * (i % 2 ? 2 : 1);
        total += d > 9 ? d - 9 : d;
    }
    return total % 10 == 0;
}

/* ------------------------------------------------------------ Europe */

static int
nino_ok(const Span *s)
{
    char v[9];
    if (id_compact(s, v, 9) != 9 || !is_upper(v[0]) || !is_upper(v[1])) {
        return 0;
    }
    if (strchr("DFIQUV", v[0]) || strchr("DFIOQUV", v[1])) {
        return 0;
    }
    static const char *bad[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (v[0] == bad[i][0] && v[1] == bad[i][1]) {
            return 0;
        }
    }
    return all_d(v, 2, 8) && v[8] >= 'A' && v[8] <= 'D';
}

static int
nhs_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {10, 9, 8, 7, 6, 5, 4, 3, 2};
    if (id_digits(s, v) != 10 || all_same(v, 10)) {
        return 0;
    }
    int check = 11 - weighted(v, w, 9) % 11;
    return check != 10 && check % 11 == v[9];
}

static int
steuer_id_ok(const Span *s)
{
    int v[ID_CAP], counts[10] = {0};
    if (id_digits(s, v) != 11 || v[0] == 0) {
        return 0;
    }
    for (int i = 0; i < 10; i++) {
        counts[v[i]]++;
    }
    int most = 0, second = 0;
    for (int d = 0; d < 10; d++) {
        if (counts[d] > most) {
            second = most;
            most = counts[d];
        } else if (counts[d] > second) {
            second = counts[d];
        }
    }
    if ((most != 2 && most != 3) || (second != 0 && second != 1)) {
        return 0;
    }
    int product = 10;
    for (int i = 0; i < 10; i++) {
        int total = (v[i] + product) % 10;
        product = (total ? total : 10) * 2 % 11;
    }
    return (11 - product) % 10 == v[10];
}

static int
nir_ok(const Span *s)
{
    char v[15];
    if (id_compact(s, v, 15) != 15 || (v[0] != '1' && v[0] != '2') || !all_d(v, 1, 5)) {
        return 0;
    }
    int month = (v[3] - '0') * 10 + (v[4] - '0');
    if (!((month >= 1 && month <= 12) || month >= 20)) {
        return 0;
    }
    char body[13];
    memcpy(body, v, 13);
    if (body[5] == '2' && (body[6] == 'A' || body[6] == 'B')) {
        body[5] = '1';
        body[6] = body[6] == 'A' ? '9' : '8';
    }
    if (!all_d(body, 0, 13) || !all_d(v, 13, 15)) {
        return 0;
    }
    long long number = 0;
    for (int i = 0; i < 13; i++) {
        number = number * 10 + (body[i] - '0');
    }
    return 97 - number % 97 == (v[13] - '0') * 10 + (v[14] - '0');
}

static const char dni_letters[] = "TRWAGMYFPDXBNJZSQVHLCKE";

static int
dni_ok(const Span *s)
{
    char v[9];
    if (id_compact(s, v, 9) != 9 || !all_d(v, 0, 8)) {
        return 0;
    }
    long n = 0;
    for (int i = 0; i < 8; i++) {
        n = n * 10 + (v[i] - '0');
    }
    return dni_letters[n % 23] == v[8];
}

static int
nie_ok(const Span *s)
{
    char v[9];
    if (id_compact(s, v, 9) != 9 || !all_d(v, 1, 8)) {
        return 0;
    }
    static const char xyz[] = "XYZ";
    const char *at = strchr(xyz, v[0]);
    if (at == NULL) {
        return 0;
    }
    long n = 0;
    for (int i = 1; i < 8; i++) {
        n = n * 10 + (v[i] - '0');
    }
    return dni_letters[((long)(at - xyz) * 10000000L + n) % 23] == v[8];
}

static const int cf_odd[26] = {1,  0,  5,  7,  9,  13, 15, 17, 19, 21, 2,  4,  18,
                               20, 11, 3,  6,  8,  12, 14, 16, 10, 22, 25, 24, 23};

static int
codice_fiscale_ok(const Span *s)
{
    char v[16], plain[16];
    if (id_compact(s, v, 16) != 16) {
        return 0;
    }
    static const char omocodia[] = "LMNPQRSTUV";
    static const int digit_at[] = {6, 7, 9, 10, 12, 13, 14};
    memcpy(plain, v, 16);
    for (int i = 0; i < 16; i++) {
        if (!is_d(v[i]) && !is_upper(v[i])) {
            return 0;
        }
    }
    for (size_t k = 0; k < sizeof(digit_at) / sizeof(digit_at[0]); k++) {
        int i = digit_at[k];
        const char *at = strchr(omocodia, plain[i]);
        if (at != NULL) {
            plain[i] = (char)('0' + (at - omocodia));
        }
        if (!is_d(plain[i])) {
            return 0;
        }
    }
    static const int letters[] = {0, 1, 2, 3, 4, 5, 8, 11, 15};
    for (size_t k = 0; k < sizeof(letters) / sizeof(letters[0]); k++) {
        if (!is_upper(plain[letters[k]])) {
            return 0;
        }
    }
    if (strchr("ABCDEHLMPRST", v[8]) == NULL) {
        return 0;
    }
    int day = (plain[9] - '0') * 10 + (plain[10] - '0');
    if (!((day >= 1 && day <= 31) || (day >= 41 && day <= 71))) {
        return 0;
    }
    int total = 0;
    for (int i = 0; i < 15; i++) {
        int n = is_d(v[i]) ? v[i] - '0' : v[i] - 'A';
        total += i % 2 == 0 ? cf_odd[n] : n;
    }
    return 'A' + total % 26 == v[15];
}

static int
bsn_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {9, 8, 7, 6, 5, 4, 3, 2};
    if (id_digits(s, v) != 9 || all_same(v, 9)) {
        return 0;
    }
    int r = (weighted(v, w, 8) - v[8]) % 11;
    return r == 0;
}

static int
be_nrn_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 11 || v[2] * 10 + v[3] > 12 || v[4] * 10 + v[5] > 31) {
        return 0;
    }
    long long body = number_of(v, 0, 9);
    int check = v[9] * 10 + v[10];
    return check == 97 - body % 97 || check == 97 - (2000000000LL + body) % 97;
}

static int
pesel_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {1, 3, 7, 9, 1, 3, 7, 9, 1, 3};
    if (id_digits(s, v) != 11 || all_same(v, 11)) {
        return 0;
    }
    if (!date_ok(v[4] * 10 + v[5], (v[2] * 10 + v[3]) % 20)) {
        return 0;
    }
    return (10 - weighted(v, w, 10) % 10) % 10 == v[10];
}

static int
personnummer_ok(const Span *s)
{
    int all[ID_CAP];
    Py_ssize_t n = id_digits(s, all);
    const int *v = all;
    if (n == 12) {
        v += 2;
        n = 10;
    }
    if (n != 10 || all_same(v, 10)) {
        return 0;
    }
    int day = v[4] * 10 + v[5];
    return date_ok(day > 60 ? day - 60 : day, v[2] * 10 + v[3]) && luhn_values(v, 10);
}

static const char hetu_check[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

static int
hetu_ok(const Span *s)
{
    char v[11];
    if (s->len < 11) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < s->len; i++) {
        if (AT(s, i) >= 128) {
            return 0;
        }
    }
    for (int i = 0; i < 11; i++) {
        Py_UCS4 c = AT(s, i);
        v[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    if (v[6] == '\0' || strchr("+-ABCDEFYXWVU", v[6]) == NULL) {
        return 0;
    }
    if (!all_d(v, 0, 6) || !all_d(v, 7, 10)) {
        return 0;
    }
    if (!date_ok((v[0] - '0') * 10 + (v[1] - '0'), (v[2] - '0') * 10 + (v[3] - '0'))) {
        return 0;
    }
    long number = 0;
    for (int i = 0; i < 10; i++) {
        if (i != 6) {
            number = number * 10 + (v[i] - '0');
        }
    }
    return hetu_check[number % 31] == v[10];
}

static int
dk_cpr_ok(const Span *s)
{
    int v[ID_CAP];
    return id_digits(s, v) == 10 && !all_same(v, 10) &&
           date_ok(v[0] * 10 + v[1], v[2] * 10 + v[3]);
}

/* ------------------------------------------------------------ elsewhere */

static const char verhoeff_d[10][11] = {
    "0123456789", "1234067895", "2340178956", "3401289567", "4012395678",
    "5987604321", "6598710432", "7659821043", "8765932104", "9876543210",
};
static const char verhoeff_p[8][11] = {
    "0123456789", "1576283094", "5803796142", "8916043527",
    "9453126870", "4286573901", "2793806415", "7046913258",
};

static int
aadhaar_ok(const Span *s)
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

static int
pan_ok(const Span *s)
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

static int
au_tfn_ok(const Span *s)
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

static int
au_medicare_ok(const Span *s)
{
    int v[ID_CAP];
    static const int w[] = {1, 3, 7, 9, 1, 3, 7, 9};
    Py_ssize_t n = id_digits(s, v);
    if ((n != 10 && n != 11) || v[0] < 2 || v[0] > 6 || v[9] == 0) {
        return 0;
    }
    return weighted(v, w, 8) % 10 == v[8];
}

static int
ca_sin_ok(const Span *s)
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

static int
cpf_ok(const Span *s)
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

static int
cnpj_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 14 || all_same(v, 14)) {
        return 0;
    }
    return cnpj_digit(v, 12) == v[12] && cnpj_digit(v, 13) == v[13];
}

static int
sg_nric_ok(const Span *s)
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

static int
kr_rrn_ok(const Span *s)
{
    int v[ID_CAP];
    if (id_digits(s, v) != 13 || v[6] < 1 || v[6] > 8 || all_same(v + 7, 6)) {
        return 0;
    }
    return date_ok(v[4] * 10 + v[5], v[2] * 10 + v[3]);
}

static int
aba_ok(const Span *s)
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

static int
npi_ok(const Span *s)
{
    int v[ID_CAP + 5] = {8, 0, 8, 4, 0};
    if (id_digits(s, v + 5) != 10 || (v[5] != 1 && v[5] != 2)) {
        return 0;
    }
    return luhn_values(v, 15);
}

static int
dea_ok(const Span *s)
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

/* ------------------------------------------------------------- entry */

typedef int (*IdCheck)(const Span *);

/* In the order of ids.ID_CHECKS. */
static const IdCheck id_checks[] = {
    nino_ok,   nhs_ok,       steuer_id_ok,    nir_ok,   dni_ok,     nie_ok,
    codice_fiscale_ok,       bsn_ok,          be_nrn_ok, pesel_ok,  personnummer_ok,
    hetu_ok,   dk_cpr_ok,    aadhaar_ok,      pan_ok,   au_tfn_ok,  au_medicare_ok,
    ca_sin_ok, cpf_ok,       cnpj_ok,         sg_nric_ok, kr_rrn_ok,  aba_ok,
    npi_ok,    dea_ok,
};

int
llr_check_id(int kind, const Span *s)
{
    if (kind < 0 || (size_t)kind >= sizeof(id_checks) / sizeof(id_checks[0])) {
        return 0;
    }
    return id_checks[kind](s);
}
