/*
 * National identifiers: the span checks of router/classify/ids.py in C,
 * one per kind in the order of ids.ID_CHECKS (spans.c's count_valid maps
 * its kinds past the others here). Each reads the span as ids.digits or
 * ids.compact does; tests/unit/test_classify_ids.py holds both equal.
 * The kinds outside Europe are in ids_more.c; the helpers in ids.h.
 */

#include "ids.h"

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

/* ------------------------------------------------------------- entry */

typedef int (*IdCheck)(const Span *);

/* In the order of ids.ID_CHECKS. */
static const IdCheck id_checks[] = {
    nino_ok,           nhs_ok,        steuer_id_ok,   nir_ok,
    dni_ok,            nie_ok,        codice_fiscale_ok, bsn_ok,
    be_nrn_ok,         pesel_ok,      personnummer_ok, hetu_ok,
    dk_cpr_ok,         llr_aadhaar_ok, llr_pan_ok,    llr_au_tfn_ok,
    llr_au_medicare_ok, llr_ca_sin_ok, llr_cpf_ok,    llr_cnpj_ok,
    llr_sg_nric_ok,    llr_kr_rrn_ok, llr_aba_ok,     llr_npi_ok,
    llr_dea_ok,
};

int
llr_check_id(int kind, const Span *s)
{
    if (kind < 0 || (size_t)kind >= sizeof(id_checks) / sizeof(id_checks[0])) {
        return 0;
    }
    return id_checks[kind](s);
}
