/* test_property.c - random batches through the JSON-lines file sink (issue
 * 11, property tests), checked against invariants:
 *   - no crash, no sanitizer report (`make test SANITIZE=1`);
 *   - nothing lost: after the final flush, acked() covers every record
 *     process() took, and the file has exactly one line per record, in
 *     order;
 *   - every line is one valid JSON document (jansson parses it back) whose
 *     _index, _id (present exactly when the id is not empty) and _source
 *     give back every field in schema order with its value: integers
 *     exact (INT64_MIN/MAX too), doubles exact (NaN and infinities as
 *     null), strings byte for byte (quotes, backslashes, control bytes,
 *     NUL, multibyte UTF-8), booleans, lists, nulls;
 *   - acked() never goes back and never passes what was received.
 * Buffer sizes from 1 byte up, flushes and ticks at random.  The seed is
 * printed; SH_PROPTEST_SEED=N repeats a run, SH_PROPTEST_ITERS=N sets the
 * rounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_sink.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const char *const names[] = {"userId", "deptList", "a\"b", "back\\slash", "tab\there", "caf\xc3\xa9",
                                    "x", "windowBeginTime"};
static const char *const indices[] = {"user_session_details", "departments_count", "in\"dex", "\xe2\x82\xac"};

static sh_value rand_value(testhost *th, uint64_t *rng, uint32_t type)
{
    static const double specials[] = {0.0, -0.0, 0.1, 1e300, -1e-300, 4.9e-324, 1e16, 123456789.125};
    sh_value v = sh_v_null();
    if (th_below(rng, 10) == 0)
        return v;
    switch (type) {
    case SH_INT: {
        uint64_t k = th_below(rng, 6);
        v = sh_v_int(k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : k == 2 ? 0 : (int64_t)th_rand(rng));
        break;
    }
    case SH_DOUBLE: {
        v.type = SH_DOUBLE;
        uint64_t k = th_below(rng, 10);
        if (k == 0)
            v.u.d = NAN;
        else if (k == 1)
            v.u.d = th_below(rng, 2) ? INFINITY : -INFINITY;
        else if (k < 5)
            v.u.d = specials[th_below(rng, 8)];
        else { /* any bit pattern that is a finite double */
            uint64_t bits = th_rand(rng);
            memcpy(&v.u.d, &bits, sizeof bits);
            if (!isfinite(v.u.d))
                v.u.d = -2.5;
        }
        break;
    }
    case SH_STRING: {
        sh_str s = th_rand_text(th, rng, names, sizeof names / sizeof names[0]);
        v = sh_v_str(s.ptr, s.len);
        break;
    }
    case SH_BOOL: v.type = SH_BOOL; v.u.b = (int)th_below(rng, 3); break;
    case SH_STRLIST: {
        uint32_t k = th_below(rng, 10) == 0 ? (uint32_t)th_below(rng, 200) : (uint32_t)th_below(rng, 4);
        sh_str *items = th_scratch(th, (k ? k : 1) * sizeof *items);
        for (uint32_t i = 0; i < k; i++)
            items[i] = th_rand_text(th, rng, names, sizeof names / sizeof names[0]);
        v.type = SH_STRLIST;
        v.u.l = (sh_strlist){items, k};
        break;
    }
    default: break;
    }
    return v;
}

static void check_json_text(json_t *j, sh_str s)
{
    assert_true(json_is_string(j));
    assert_int_equal(json_string_length(j), s.len);
    assert_memory_equal(json_string_value(j), s.ptr ? s.ptr : "", s.len);
}

static void check_json_value(json_t *j, const sh_value *v)
{
    assert_non_null(j);
    switch (v->type) {
    case SH_INT:
        assert_true(json_is_integer(j));
        assert_true(json_integer_value(j) == v->u.i);
        break;
    case SH_DOUBLE:
        if (!isfinite(v->u.d)) {
            assert_true(json_is_null(j));
        } else {
            assert_true(json_is_number(j));
            if (json_is_integer(j)) /* "%.17g" of an integral double, e.g. 1e16 */
                assert_true((double)json_integer_value(j) == v->u.d);
            else
                assert_true(json_real_value(j) == v->u.d); /* %.17g reads back exactly */
        }
        break;
    case SH_STRING: check_json_text(j, v->u.s); break;
    case SH_BOOL: assert_true(json_is_boolean(j) && json_is_true(j) == (v->u.b != 0)); break;
    case SH_STRLIST:
        assert_true(json_is_array(j));
        assert_int_equal(json_array_size(j), v->u.l.n);
        for (uint32_t i = 0; i < v->u.l.n; i++)
            check_json_text(json_array_get(j, i), v->u.l.items[i]);
        break;
    default: assert_true(json_is_null(j)); break;
    }
}

/* A record kept for checking the file: deep enough copies in scratch memory
 * of a testhost that lives as long as the round. */
typedef struct kept {
    const sh_schema *schema;
    sh_str id;
    sh_value *values;
} kept;

static sh_str keep_str(testhost *keep, sh_str s)
{
    char *p = th_scratch(keep, s.len);
    if (s.len)
        memcpy(p, s.ptr, s.len);
    return (sh_str){p, s.len};
}

static void keep_rec(testhost *keep, kept *k, const sh_record *r)
{
    k->schema = r->schema;
    k->id = keep_str(keep, r->id);
    k->values = th_scratch(keep, (r->schema->nfields ? r->schema->nfields : 1) * sizeof *k->values);
    for (uint32_t i = 0; i < r->schema->nfields; i++) {
        sh_value v = r->values[i];
        if (v.type == SH_STRING) {
            v.u.s = keep_str(keep, v.u.s);
        } else if (v.type == SH_STRLIST) {
            sh_str *items = th_scratch(keep, (v.u.l.n ? v.u.l.n : 1) * sizeof *items);
            for (uint32_t j = 0; j < v.u.l.n; j++)
                items[j] = keep_str(keep, v.u.l.items[j]);
            v.u.l.items = items;
        }
        k->values[i] = v;
    }
}

static struct {
    uint64_t records, bytes;
} seen;

typedef struct schema_box {
    sh_field fields[6];
    sh_schema schema;
} schema_box;

static void one_round(uint64_t *rng, const char *path, testhost *keep)
{
    static const char *const bufs[] = {"1", "64", "4KiB", "1MiB"};
    static const char *const intervals[] = {"0ms", "1ms", "1s"};
    char kv_path[128], kv_buf[32], kv_int[32];
    snprintf(kv_path, sizeof kv_path, "path=%s", path);
    snprintf(kv_buf, sizeof kv_buf, "buffer.size=%s", bufs[th_below(rng, 4)]);
    snprintf(kv_int, sizeof kv_int, "flush.interval=%s", intervals[th_below(rng, 3)]);
    const char *kv[] = {kv_path, kv_buf, kv_int, th_below(rng, 4) == 0 ? "fsync=true" : NULL, NULL};
    const sh_plugin *p = streamhost_plugin_entry(SH_ABI_VERSION);
    testhost *th = th_new(p, kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);

    schema_box sb[3];
    for (int s = 0; s < 3; s++) {
        uint32_t n = (uint32_t)th_below(rng, 7);
        for (uint32_t i = 0; i < n; i++) /* distinct names: JSON objects have unique keys */
            sb[s].fields[i] = (sh_field){names[(i + (uint32_t)s) % (sizeof names / sizeof names[0])],
                                         (uint32_t)th_below(rng, 6)};
        sb[s].schema = (sh_schema){indices[th_below(rng, 4)], n, sb[s].fields};
    }
    size_t cap = 4096, nkept = 0;
    kept *ks = th_scratch(keep, cap * sizeof *ks);
    uint64_t acked = 0;
    size_t nbatches = 1 + th_below(rng, 10);
    for (size_t b = 0; b < nbatches; b++) {
        size_t n = th_below(rng, 5) == 0 ? 0 : th_below(rng, 300);
        if (nkept + n > cap)
            n = cap - nkept;
        sh_record *recs = th_scratch(th, (n ? n : 1) * sizeof *recs);
        for (size_t i = 0; i < n; i++) {
            const sh_schema *s = &sb[th_below(rng, 3)].schema;
            sh_value *v = th_scratch(th, (s->nfields ? s->nfields : 1) * sizeof *v);
            for (uint32_t k = 0; k < s->nfields; k++)
                v[k] = rand_value(th, rng, s->fields[k].type);
            sh_str id = th_below(rng, 4) == 0 ? (sh_str){"", 0} : th_rand_text(th, rng, NULL, 0);
            recs[i] = (sh_record){.schema = s, .time = th_rand_time(rng, 0), .key = id, .id = id, .values = v,
                                  .slot = SH_NO_SLOT};
            keep_rec(keep, &ks[nkept + i], &recs[i]);
        }
        assert_int_equal(th_process(th, 0, recs, n), SH_OK);
        nkept += n;
        uint64_t a = p->acked(th_state(th));
        assert_true(a >= acked && a <= nkept);
        acked = a;
        uint64_t k = th_below(rng, 4);
        if (k == 0)
            assert_int_equal(p->flush(th_state(th), 0), SH_OK);
        else if (k == 1)
            assert_int_equal(th_tick(th, th_host(th)->now_ms(th_ctx(th)) + (int64_t)th_below(rng, 3000)), SH_OK);
        th_scratch_reset(th);
    }
    assert_int_equal(p->flush(th_state(th), 1), SH_OK);
    assert_int_equal(p->acked(th_state(th)), nkept); /* everything received is durable */
    assert_int_equal(th_counter(th, "records_written_total"), nkept);
    seen.bytes += th_counter(th, "written_bytes_total");
    th_free(th);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t linecap = 0, nlines = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) > 0) {
        assert_true(nlines < nkept);
        assert_int_equal(line[len - 1], '\n');
        json_error_t err;
        json_t *doc = json_loadb(line, (size_t)len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
        if (!doc)
            fail_msg("line %zu is not JSON (%s): %s", nlines + 1, err.text, line);
        const kept *k = &ks[nlines];
        assert_string_equal(json_string_value(json_object_get(doc, "_index")), k->schema->name);
        json_t *id = json_object_get(doc, "_id");
        if (k->id.len)
            check_json_text(id, k->id);
        else
            assert_null(id);
        json_t *src = json_object_get(doc, "_source");
        assert_true(json_is_object(src));
        assert_int_equal(json_object_size(src), k->schema->nfields);
        void *it = json_object_iter(src);
        for (uint32_t i = 0; i < k->schema->nfields; i++, it = json_object_iter_next(src, it)) {
            assert_non_null(it);
            assert_string_equal(json_object_iter_key(it), k->schema->fields[i].name); /* schema order */
            check_json_value(json_object_iter_value(it), &k->values[i]);
        }
        json_decref(doc);
        nlines++;
    }
    free(line);
    fclose(f);
    assert_int_equal(nlines, nkept); /* one line per record */
    seen.records += nkept;
    th_scratch_reset(keep);
}

static void test_random_batches(void **unused)
{
    (void)unused;
    uint64_t rng = th_seed("file sink property");
    char path[] = "/tmp/sh-file-sink-property-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    testhost *keep = th_new(streamhost_plugin_entry(SH_ABI_VERSION), NULL); /* scratch memory only */
    int rounds = th_rounds(40);
    for (int i = 0; i < rounds; i++)
        one_round(&rng, path, keep);
    th_free(keep);
    remove(path);
    fprintf(stderr, "file sink property: %d rounds, %llu records, %llu bytes\n", rounds,
            (unsigned long long)seen.records, (unsigned long long)seen.bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
