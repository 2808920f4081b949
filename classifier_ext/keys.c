/*
 * Keys of the body read: body.py's STRUCTURAL and SKIP sets and the keys
 * whose values the walk looks at (payloads, files, images, audio, text
 * parts), plus its TEXT_TYPES. Keys are looked up in a hash table filled
 * once at import; media types (only those of decoded payloads) by a scan.
 */

#include "body.h"

#include <string.h>

typedef struct {
    const char *name;
    int bits;
} Key;

static const Key keys[] = {
    {"additionalProperties", K_STRUCTURAL},
    {"allOf", K_STRUCTURAL},
    {"annotations", K_STRUCTURAL},
    {"anyOf", K_STRUCTURAL},
    {"arguments", K_STRUCTURAL},
    {"audio", K_STRUCTURAL},
    {"call_id", K_STRUCTURAL | K_SKIP},
    {"content", K_STRUCTURAL},
    {"data", K_STRUCTURAL | K_DATA},
    {"description", K_STRUCTURAL},
    {"detail", K_STRUCTURAL | K_SKIP},
    {"effort", K_STRUCTURAL | K_SKIP},
    {"enum", K_STRUCTURAL},
    {"file", K_STRUCTURAL},
    {"file_data", K_STRUCTURAL | K_FILE_DATA},
    {"file_id", K_STRUCTURAL | K_SKIP | K_FILE_REF},
    {"file_url", K_STRUCTURAL | K_FILE_REF},
    {"filename", K_STRUCTURAL},
    {"format", K_STRUCTURAL | K_SKIP},
    {"function", K_STRUCTURAL},
    {"function_call", K_STRUCTURAL},
    {"functions", K_STRUCTURAL},
    {"id", K_STRUCTURAL | K_SKIP},
    {"image_url", K_STRUCTURAL | K_IMAGE_URL},
    {"include", K_STRUCTURAL},
    {"input", K_STRUCTURAL},
    {"input_audio", K_STRUCTURAL | K_INPUT_AUDIO},
    {"instructions", K_STRUCTURAL},
    {"items", K_STRUCTURAL},
    {"json_schema", K_STRUCTURAL},
    {"messages", K_STRUCTURAL},
    {"modalities", K_STRUCTURAL},
    {"model", K_STRUCTURAL | K_SKIP},
    {"name", K_STRUCTURAL},
    {"oneOf", K_STRUCTURAL},
    {"output", K_STRUCTURAL},
    {"parameters", K_STRUCTURAL},
    {"previous_response_id", K_STRUCTURAL | K_SKIP},
    {"reasoning", K_STRUCTURAL},
    {"reasoning_effort", K_STRUCTURAL | K_SKIP},
    {"refusal", K_STRUCTURAL},
    {"required", K_STRUCTURAL},
    {"response_format", K_STRUCTURAL},
    {"role", K_STRUCTURAL | K_SKIP},
    {"schema", K_STRUCTURAL},
    {"service_tier", K_STRUCTURAL | K_SKIP},
    {"status", K_STRUCTURAL | K_SKIP},
    {"stream", K_STRUCTURAL},
    {"stream_options", K_STRUCTURAL},
    {"strict", K_STRUCTURAL},
    {"summary", K_STRUCTURAL},
    {"text", K_STRUCTURAL | K_TEXT},
    {"title", K_STRUCTURAL},
    {"tool_call_id", K_STRUCTURAL | K_SKIP},
    {"tool_calls", K_STRUCTURAL},
    {"tool_choice", K_STRUCTURAL | K_SKIP},
    {"tools", K_STRUCTURAL},
    {"truncation", K_STRUCTURAL | K_SKIP},
    {"type", K_STRUCTURAL | K_SKIP | K_TYPE},
    {"url", K_STRUCTURAL},
    {"verbosity", K_STRUCTURAL | K_SKIP},
    {"voice", K_STRUCTURAL | K_SKIP},
};

static const char *const text_types[] = {
    "",
    "application/csv",
    "application/ecmascript",
    "application/graphql",
    "application/javascript",
    "application/json",
    "application/ndjson",
    "application/octet-stream",
    "application/rtf",
    "application/sql",
    "application/toml",
    "application/typescript",
    "application/x-httpd-php",
    "application/x-javascript",
    "application/x-ndjson",
    "application/x-python",
    "application/x-sh",
    "application/x-sql",
    "application/x-tex",
    "application/x-toml",
    "application/x-www-form-urlencoded",
    "application/x-yaml",
    "application/xml",
    "application/yaml",
};

#define N_KEYS ((Py_ssize_t)(sizeof(keys) / sizeof(keys[0])))
#define N_TYPES ((Py_ssize_t)(sizeof(text_types) / sizeof(text_types[0])))
#define SLOTS 512 /* a power of two, over twice the keys */

/* An open-addressing table of the keys, filled once at import. */
static const Key *slots[SLOTS];
static Py_ssize_t slot_lens[SLOTS];

static size_t
hash(const char *s, Py_ssize_t n)
{
    size_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    }
    return h;
}

int
llr_init_keys(void)
{
    for (Py_ssize_t k = 0; k < N_KEYS; k++) {
        Py_ssize_t n = (Py_ssize_t)strlen(keys[k].name);
        size_t at = hash(keys[k].name, n) & (SLOTS - 1);
        while (slots[at] != NULL) {
            at = (at + 1) & (SLOTS - 1);
        }
        slots[at] = &keys[k];
        slot_lens[at] = n;
    }
    return 0;
}

int
llr_key_bits(const char *key, Py_ssize_t n)
{
    if (n > 32) {
        return 0; /* longer than any key of the table */
    }
    size_t at = hash(key, n) & (SLOTS - 1);
    while (slots[at] != NULL) {
        if (slot_lens[at] == n && memcmp(slots[at]->name, key, (size_t)n) == 0) {
            return slots[at]->bits;
        }
        at = (at + 1) & (SLOTS - 1);
    }
    return 0;
}

int
llr_is_text_type(const char *type, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < N_TYPES; k++) {
        if ((Py_ssize_t)strlen(text_types[k]) == n &&
            memcmp(text_types[k], type, (size_t)n) == 0) {
            return 1;
        }
    }
    return 0;
}
