/* test_dashboard.c - the dashboard sink: what each kind of document does to
 * the windows (counts, departments, session checkouts bucketed like tumble),
 * overwrites on replay, the memory bounds (windows, department names), input
 * that must be ignored without harm (unknown streams, nulls, wrong types,
 * extreme times, overflowing sums, odd names), the JSON the page reads, the
 * config checks, and the HTTP server: page, assets, data, ETag/304, errors,
 * and one clear line when the port is taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dashboard_sink.h"
#include "testhost.h"

const sh_plugin *streamhost_plugin_entry(uint32_t);

static const sh_plugin *plugin(void)
{
    return streamhost_plugin_entry(SH_ABI_VERSION);
}

/* --- the three document kinds, as the session and tumble plugins emit them */

static const sh_field count_fields[] = {{"userSessionCount", SH_INT},
                                        {"userSessionCountWithOrderCheckout", SH_INT},
                                        {"percentSessionswithBuy", SH_INT},
                                        {"windowBeginTime", SH_INT},
                                        {"windowEndTime", SH_INT}};
static const sh_schema count_schema = {"user_session_counts", 5, count_fields};

static const sh_field dept_fields[] = {{"departmentName", SH_STRING},
                                       {"departmentCount", SH_INT},
                                       {"windowBeginTime", SH_INT},
                                       {"windowEndTime", SH_INT}};
static const sh_schema dept_schema = {"departments_count", 4, dept_fields};

static const sh_field detail_fields[] = {{"userId", SH_INT},          {"eventCount", SH_INT},
                                         {"orderCheckoutEventCount", SH_INT}, {"deptList", SH_STRLIST},
                                         {"eventKey", SH_INT},        {"windowBeginTime", SH_INT},
                                         {"windowEndTime", SH_INT}};
static const sh_schema detail_schema = {"user_session_details", 7, detail_fields};

static const sh_field click_fields[] = {{"userid", SH_INT}, {"event_type", SH_STRING}};
static const sh_schema click_schema = {"clickstream", 2, click_fields};

typedef struct doc {
    sh_value v[8];
    sh_str list[2];
    sh_record r;
} doc;

static sh_record *counts(doc *d, int64_t begin, int64_t end, int64_t n, int64_t with)
{
    d->v[0] = sh_v_int(n);
    d->v[1] = sh_v_int(with);
    d->v[2] = sh_v_int(n ? with * 100 / n : 0);
    d->v[3] = sh_v_int(begin);
    d->v[4] = sh_v_int(end);
    d->r = (sh_record){.schema = &count_schema, .time = end > INT64_MIN ? end - 1 : end, .values = d->v, .slot = SH_NO_SLOT};
    return &d->r;
}

static sh_record *dept(doc *d, const char *name, size_t len, int64_t end, int64_t count)
{
    d->v[0] = sh_v_str(name, len);
    d->v[1] = sh_v_int(count);
    d->v[2] = sh_v_int(end - 10000);
    d->v[3] = sh_v_int(end);
    d->r = (sh_record){.schema = &dept_schema, .time = end > INT64_MIN ? end - 1 : end, .values = d->v, .slot = SH_NO_SLOT};
    return &d->r;
}

static sh_record *session(doc *d, int64_t user, int64_t end, int64_t checkout)
{
    d->list[0] = (sh_str){"laptops", 7};
    d->v[0] = sh_v_int(user);
    d->v[1] = sh_v_int(checkout < INT64_MAX ? checkout + 1 : checkout);
    d->v[2] = sh_v_int(checkout);
    d->v[3].type = SH_STRLIST;
    d->v[3].u.l = (sh_strlist){d->list, 1};
    d->v[4] = sh_v_int(1);
    d->v[5] = sh_v_int(end > INT64_MIN + 2000 ? end - 2000 : end);
    d->v[6] = sh_v_int(end);
    d->r = (sh_record){.schema = &detail_schema, .time = end > INT64_MIN ? end - 1 : end, .values = d->v, .slot = SH_NO_SLOT};
    return &d->r;
}

static const dash_window *find(const dash_store *s, int64_t end)
{
    for (uint32_t i = 0; i < s->nw; i++)
        if (s->w[i].end == end)
            return &s->w[i];
    return NULL;
}

static int64_t dept_count(const dash_store *s, const dash_window *w, const char *name)
{
    for (uint32_t i = 0; i < w->ndepts; i++)
        if (strcmp(s->names[w->depts[i].id], name) == 0)
            return w->depts[i].count;
    return -1;
}

/* --- the store ---------------------------------------------------------- */

static void counts_documents_fill_windows_and_replays_overwrite(void **st)
{
    (void)st;
    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 10, 8), 0);
    doc d;
    assert_int_equal(dash_store_add(&s, counts(&d, 10000, 20000, 8, 2)), 1);
    assert_int_equal(dash_store_add(&s, counts(&d, 0, 10000, 4, 1)), 1);
    assert_int_equal(s.nw, 2);
    assert_int_equal(s.w[0].end, 10000); /* kept in window order */
    const dash_window *w = find(&s, 20000);
    assert_non_null(w);
    assert_true(w->has_counts);
    assert_int_equal(w->sessions, 8);
    assert_int_equal(w->with_checkout, 2);
    assert_int_equal(w->percent, 25);
    assert_int_equal(w->begin, 10000);
    /* the same document again (a replay) overwrites, as an index does */
    assert_int_equal(dash_store_add(&s, counts(&d, 10000, 20000, 9, 3)), 1);
    assert_int_equal(s.nw, 2);
    assert_int_equal(find(&s, 20000)->sessions, 9);
    assert_int_equal(s.version, 3);
    dash_store_free(&s);
}

static void department_documents_per_window_and_name(void **st)
{
    (void)st;
    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 10, 2), 0);
    doc d;
    assert_int_equal(dash_store_add(&s, dept(&d, "laptops", 7, 10000, 3)), 1);
    assert_int_equal(dash_store_add(&s, dept(&d, "cameras", 7, 10000, 1)), 1);
    assert_int_equal(dash_store_add(&s, dept(&d, "laptops", 7, 20000, 5)), 1);
    assert_int_equal(dash_store_add(&s, dept(&d, "laptops", 7, 10000, 4)), 1); /* overwrite */
    assert_int_equal(s.nnames, 2);
    assert_int_equal(dept_count(&s, find(&s, 10000), "laptops"), 4);
    assert_int_equal(dept_count(&s, find(&s, 10000), "cameras"), 1);
    assert_int_equal(dept_count(&s, find(&s, 20000), "laptops"), 5);
    /* departments.max = 2: a third name is ignored and counted */
    assert_int_equal(dash_store_add(&s, dept(&d, "tvs", 3, 10000, 9)), 0);
    assert_int_equal(s.nnames, 2);
    assert_int_equal(s.dropped_depts, 1);
    assert_int_equal(s.ignored, 1);
    dash_store_free(&s);
}

/* A session counts in the tumble window that holds windowEndTime - 1. */
static void sessions_bucket_like_tumble(void **st)
{
    (void)st;
    int64_t end;
    assert_int_equal(dash_window_end(20000, 10000, &end), 0);
    assert_int_equal(end, 20000);
    assert_int_equal(dash_window_end(20001, 10000, &end), 0);
    assert_int_equal(end, 30000);
    assert_int_equal(dash_window_end(1, 10000, &end), 0);
    assert_int_equal(end, 10000);
    assert_int_equal(dash_window_end(0, 10000, &end), 0); /* holds -1: the window before 1970 */
    assert_int_equal(end, 0);
    assert_int_equal(dash_window_end(-15000, 10000, &end), 0);
    assert_int_equal(end, -10000);
    assert_int_equal(dash_window_end(INT64_MIN, 10000, &end), -1);
    assert_int_equal(dash_window_end(INT64_MAX, 10000, &end), -1);
    assert_int_equal(dash_window_end(INT64_MIN + 1, 10000, &end), -1); /* its window starts before INT64_MIN */
    assert_int_equal(dash_window_end(INT64_MIN + 10000, 10000, &end), 0);

    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 10, 8), 0);
    doc d;
    assert_int_equal(dash_store_add(&s, session(&d, 1, 13600, 4)), 1);
    assert_int_equal(dash_store_add(&s, session(&d, 2, 20000, 1)), 1);
    assert_int_equal(dash_store_add(&s, session(&d, 3, 20001, 2)), 1);
    const dash_window *w = find(&s, 20000);
    assert_non_null(w);
    assert_false(w->has_counts);
    assert_int_equal(w->checkout_sum, 5);
    assert_int_equal(w->checkout_n, 2);
    assert_int_equal(find(&s, 30000)->checkout_sum, 2);
    /* counts arriving later land in the same window */
    assert_int_equal(dash_store_add(&s, counts(&d, 10000, 20000, 2, 2)), 1);
    assert_int_equal(s.nw, 2);
    assert_true(find(&s, 20000)->has_counts);
    assert_int_equal(find(&s, 20000)->checkout_n, 2);
    dash_store_free(&s);
}

static void windows_are_bounded_oldest_go_first(void **st)
{
    (void)st;
    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 3, 8), 0);
    doc d;
    for (int64_t e = 10000; e <= 50000; e += 10000) {
        assert_int_equal(dash_store_add(&s, dept(&d, "laptops", 7, e, e / 10000)), 1);
        assert_true(s.nw <= 3);
    }
    assert_int_equal(s.nw, 3);
    assert_int_equal(s.w[0].end, 30000);
    assert_int_equal(s.w[2].end, 50000);
    /* older than everything kept in a full store: ignored */
    assert_int_equal(dash_store_add(&s, counts(&d, 0, 10000, 1, 1)), 0);
    assert_int_equal(s.dropped_old, 1);
    /* in between: replaces the oldest */
    assert_int_equal(dash_store_add(&s, counts(&d, 35000, 45000, 1, 1)), 1);
    assert_int_equal(s.nw, 3);
    assert_int_equal(s.w[0].end, 40000);
    assert_int_equal(s.w[1].end, 45000);
    assert_int_equal(s.w[2].end, 50000);
    dash_store_free(&s);
}

static void odd_input_is_ignored_without_harm(void **st)
{
    (void)st;
    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 4, 4), 0);
    doc d;
    /* a stream the dashboard does not know */
    sh_value cv[2] = {sh_v_int(1), sh_v_str("home_page", 9)};
    sh_record click = {.schema = &click_schema, .values = cv, .slot = SH_NO_SLOT};
    assert_int_equal(dash_store_add(&s, &click), 0);
    int is_new;
    assert_int_equal(dash_store_schema(&s, &click_schema, &is_new)->kind, DASH_UNKNOWN);
    assert_false(is_new); /* cached: the plugin warns once */
    /* nulls where numbers are needed */
    sh_record *r = counts(&d, 0, 10000, 1, 1);
    d.v[0] = sh_v_null();
    assert_int_equal(dash_store_add(&s, r), 0);
    r = session(&d, 1, 5000, 1);
    d.v[6] = sh_v_null();
    assert_int_equal(dash_store_add(&s, r), 0);
    r = dept(&d, "x", 1, 10000, 1);
    d.v[0] = sh_v_null();
    assert_int_equal(dash_store_add(&s, r), 0);
    /* a value whose type is not the schema's */
    r = dept(&d, "x", 1, 10000, 1);
    d.v[1] = sh_v_str("7", 1);
    assert_int_equal(dash_store_add(&s, r), 0);
    /* no values, no schema, no record */
    r = counts(&d, 0, 10000, 1, 1);
    r->values = NULL;
    assert_int_equal(dash_store_add(&s, r), 0);
    sh_record empty = {0};
    assert_int_equal(dash_store_add(&s, &empty), 0);
    assert_int_equal(dash_store_add(&s, NULL), 0);
    /* extreme times */
    assert_int_equal(dash_store_add(&s, session(&d, 1, INT64_MIN, 1)), 0);
    assert_int_equal(dash_store_add(&s, session(&d, 1, INT64_MAX, 1)), 0);
    assert_int_equal(dash_store_add(&s, counts(&d, INT64_MIN, INT64_MIN, 1, 1)), 1); /* a key like any other */
    assert_int_equal(dash_store_add(&s, counts(&d, INT64_MAX, INT64_MAX, 1, 1)), 1);
    /* a sum that would overflow */
    assert_int_equal(dash_store_add(&s, session(&d, 1, 5000, INT64_MAX)), 1);
    assert_int_equal(dash_store_add(&s, session(&d, 2, 5000, 1)), 0);
    assert_int_equal(find(&s, 10000)->checkout_sum, INT64_MAX);
    /* names: too long, with a NUL, empty, quotes and control bytes */
    char longname[DASH_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname);
    assert_int_equal(dash_store_add(&s, dept(&d, longname, sizeof longname, 10000, 1)), 0);
    assert_int_equal(dash_store_add(&s, dept(&d, "a\0b", 3, 10000, 1)), 0);
    assert_int_equal(dash_store_add(&s, dept(&d, "", 0, 10000, 1)), 1);
    assert_int_equal(dash_store_add(&s, dept(&d, "q\"\\\n\x01", 5, 10000, 2)), 1);

    /* and what the page gets is still valid JSON */
    sh_buf b = {0};
    dash_store_json(&s, &b, "\"x\":1");
    json_error_t e;
    json_t *j = json_loads(b.data, 0, &e);
    if (!j)
        fail_msg("invalid JSON: %s: %s", e.text, b.data);
    assert_int_equal(json_integer_value(json_object_get(j, "x")), 1);
    json_t *names = json_object_get(j, "departments");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 1)), "q\"\\\n\x01");
    json_decref(j);
    sh_buf_free(&b);
    dash_store_free(&s);
}

static void json_holds_every_number(void **st)
{
    (void)st;
    dash_store s;
    assert_int_equal(dash_store_init(&s, 10000, 10, 8), 0);
    doc d;
    dash_store_add(&s, counts(&d, 10000, 20000, 8, 2));
    dash_store_add(&s, session(&d, 1, 13600, 4));
    dash_store_add(&s, session(&d, 2, 15000, 3));
    dash_store_add(&s, dept(&d, "laptops", 7, 20000, 6));
    dash_store_add(&s, dept(&d, "cameras", 7, 30000, 1));
    sh_buf b = {0};
    dash_store_json(&s, &b, NULL);
    json_error_t e;
    json_t *j = json_loads(b.data, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "records")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "windowMs")), 10000);
    json_t *ws = json_object_get(j, "windows");
    assert_int_equal(json_array_size(ws), 2);
    json_t *w0 = json_array_get(ws, 0);
    assert_int_equal(json_integer_value(json_object_get(w0, "end")), 20000);
    assert_int_equal(json_integer_value(json_object_get(w0, "begin")), 10000);
    json_t *c = json_object_get(w0, "counts");
    assert_int_equal(json_integer_value(json_object_get(c, "sessions")), 8);
    assert_int_equal(json_integer_value(json_object_get(c, "withCheckout")), 2);
    assert_int_equal(json_integer_value(json_object_get(c, "percent")), 25);
    json_t *k = json_object_get(w0, "checkout");
    assert_int_equal(json_integer_value(json_object_get(k, "sum")), 7);
    assert_int_equal(json_integer_value(json_object_get(k, "sessions")), 2);
    json_t *dl = json_object_get(w0, "departments");
    assert_int_equal(json_array_size(dl), 1);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(dl, 0), 1)), 6);
    json_t *w1 = json_array_get(ws, 1);
    assert_true(json_is_null(json_object_get(w1, "counts")));
    assert_true(json_is_null(json_object_get(w1, "checkout")));
    assert_int_equal(json_integer_value(json_object_get(w1, "begin")), 20000); /* end - window */
    json_decref(j);
    sh_buf_free(&b);
    dash_store_free(&s);
}

/* --- the plugin: config ------------------------------------------------- */

static void bad_config_values_are_refused(void **st)
{
    (void)st;
    static const char *const bad[][2] = {
        {"port=70000", NULL}, {"port=-1", NULL}, {"address=localhost", NULL}, {"address=1.2.3", NULL},
        {"windows=0", NULL},  {"window=0ms", NULL}, {"departments.max=0", NULL}, {"departments.top=-1", NULL},
        {"refresh=10ms", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        testhost *th = th_new(plugin(), bad[i]);
        assert_non_null(th);
        assert_int_equal(plugin()->validate(th_host(th), th_ctx(th)), SH_FATAL);
        assert_int_equal(th_init(th), SH_FATAL);
        th_free(th);
    }
    static const char *const good[] = {"port=0", "address=::1", "windows=5", NULL};
    testhost *th = th_new(plugin(), good);
    assert_non_null(th);
    assert_int_equal(plugin()->validate(th_host(th), th_ctx(th)), SH_OK);
    th_free(th);
}

/* --- the plugin: HTTP ------------------------------------------------- */

typedef struct reply {
    long code;
    sh_buf body;
    char etag[96];
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    sh_buf_add(&((reply *)arg)->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    reply *r = arg;
    size_t len = sz * n;
    if (len > 6 && strncasecmp(p, "ETag: ", 6) == 0) {
        size_t m = len - 6;
        while (m && (p[6 + m - 1] == '\r' || p[6 + m - 1] == '\n'))
            m--;
        if (m < sizeof r->etag) {
            memcpy(r->etag, p + 6, m);
            r->etag[m] = '\0';
        }
    }
    return len;
}

static reply get(const char *host, int port, const char *path, const char *if_none_match, const char *method)
{
    reply r;
    memset(&r, 0, sizeof r);
    char url[160];
    snprintf(url, sizeof url, "http://%s:%d%s", host, port, path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char hdr[128];
    if (if_none_match) {
        snprintf(hdr, sizeof hdr, "If-None-Match: %s", if_none_match);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (method) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("GET %s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

/* Random records: schemas that mix the dashboard's field names with random
 * types, values of any type (or not the declared one), extreme times,
 * random names.  Nothing may crash, the bounds hold, windows stay sorted,
 * and the JSON stays valid. */
static void random_records_never_break_it(void **st)
{
    (void)st;
    static const char *const names[] = {"userSessionCount", "userSessionCountWithOrderCheckout",
                                        "percentSessionswithBuy", "windowBeginTime", "windowEndTime",
                                        "departmentName", "departmentCount", "orderCheckoutEventCount", "x"};
    static const char *const depts[] = {"laptops", "cameras", "AirPods", "cd players"};
    uint64_t seed = th_seed("dashboard random records");
    testhost *th = th_new(plugin(), (const char *const[]){"port=0", "windows=8", "departments.max=5", NULL});
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    dashboard_sink *ds = th_state(th);
    enum { NSCHEMAS = 40 };
    sh_field fields[NSCHEMAS][6];
    sh_schema schemas[NSCHEMAS];
    for (int i = 0; i < NSCHEMAS; i++) {
        uint32_t n = 1 + (uint32_t)th_below(&seed, 6);
        for (uint32_t f = 0; f < n; f++) {
            fields[i][f].name = names[th_below(&seed, 9)];
            /* mostly the type the dashboard wants, sometimes another */
            int want = strcmp(fields[i][f].name, "departmentName") == 0 ? SH_STRING : SH_INT;
            fields[i][f].type = th_below(&seed, 4) ? (uint32_t)want : (uint32_t)th_below(&seed, 6);
        }
        schemas[i] = (sh_schema){"random", n, fields[i]};
    }
    int rounds = th_rounds(300);
    for (int round = 0; round < rounds; round++) {
        sh_record recs[16];
        sh_value vals[16][6];
        size_t n = 1 + th_below(&seed, 16);
        for (size_t k = 0; k < n; k++) {
            const sh_schema *sc = &schemas[th_below(&seed, NSCHEMAS)];
            for (uint32_t f = 0; f < sc->nfields; f++) {
                uint32_t type = th_below(&seed, 8) ? sc->fields[f].type : (uint32_t)th_below(&seed, 6);
                sh_value *v = &vals[k][f];
                memset(v, 0, sizeof *v);
                v->type = type;
                switch (type) {
                case SH_INT:
                    v->u.i = th_below(&seed, 3) ? (int64_t)(th_below(&seed, 20) * 10000 + th_below(&seed, 3))
                                               : th_rand_time(&seed, 100000);
                    break;
                case SH_DOUBLE: v->u.d = (double)th_rand(&seed) / 3.0; break;
                case SH_STRING:
                    v->u.s = th_below(&seed, 2) ? (sh_str){depts[th_below(&seed, 4)], 0}
                                                : th_rand_text(th, &seed, depts, 4);
                    if (v->u.s.len == 0 && v->u.s.ptr)
                        v->u.s.len = strlen(v->u.s.ptr);
                    break;
                case SH_BOOL: v->u.b = 1; break;
                case SH_STRLIST: v->u.l = (sh_strlist){NULL, 0}; break;
                default: v->type = SH_NULL; break;
                }
            }
            recs[k] = (sh_record){.schema = sc, .time = 0, .values = vals[k], .slot = SH_NO_SLOT};
        }
        assert_int_equal(th_process(th, 0, recs, n), SH_OK);
        pthread_mutex_lock(&ds->mu);
        assert_true(ds->store.nw <= 8);
        assert_true(ds->store.nnames <= 5);
        for (uint32_t i = 1; i < ds->store.nw; i++)
            assert_true(ds->store.w[i - 1].end < ds->store.w[i].end);
        pthread_mutex_unlock(&ds->mu);
        if (round % 50 == 0 || round == rounds - 1) {
            reply r = get("127.0.0.1", ds->port, "/api/windows", NULL, NULL);
            assert_int_equal(r.code, 200);
            json_error_t e;
            json_t *j = json_loads(r.body.data, 0, &e);
            if (!j)
                fail_msg("invalid JSON (seed above): %s", e.text);
            json_decref(j);
            sh_buf_free(&r.body);
        }
        th_scratch_reset(th);
    }
    /* after any of that, a well-formed document is still taken (the random
     * rounds alone may take none: some seeds draw no usable record) */
    doc good;
    uint64_t before = ds->store.version;
    assert_int_equal(th_process(th, 0, counts(&good, 990000, 1000000, 5, 1), 1), SH_OK);
    assert_true(ds->store.version > before);
    assert_true(th_counter(th, "records_ignored_total") > 0); /* and some random ones were refused */
    th_free(th);
}

static void serves_page_assets_and_data(void **st)
{
    (void)st;
    static const char *const kv[] = {"port=0", "refresh=1s", NULL};
    testhost *th = th_new(plugin(), kv);
    assert_non_null(th);
    assert_int_equal(th_init(th), SH_OK);
    dashboard_sink *ds = th_state(th);
    assert_true(ds->port > 0);

    reply r = get("127.0.0.1", ds->port, "/", NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.body.data, "id=\"chart-data\""));
    assert_non_null(strstr(r.body.data, "vendor/uplot/uPlot.iife.min.js"));
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/vendor/uplot/uPlot.iife.min.js", NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_true(r.body.len > 10000);
    assert_non_null(strstr(r.body.data, "uPlot"));
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/vendor/uplot/LICENSE", NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.body.data, "MIT"));
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/dashboard.js", NULL, NULL);
    assert_int_equal(r.code, 200);
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/nope", NULL, NULL);
    assert_int_equal(r.code, 404);
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/api/windows", NULL, "POST");
    assert_int_equal(r.code, 405);
    sh_buf_free(&r.body);

    /* data: empty, then what process() received */
    r = get("127.0.0.1", ds->port, "/api/windows", NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.body.data, "\"windows\":[]"));
    assert_non_null(strstr(r.body.data, "\"refreshMs\":1000"));
    char etag0[96];
    strcpy(etag0, r.etag);
    assert_true(strlen(etag0) > 2);
    sh_buf_free(&r.body);

    doc d[3];
    sh_record recs[3] = {*counts(&d[0], 10000, 20000, 8, 2), *session(&d[1], 1, 13600, 4),
                         *dept(&d[2], "laptops", 7, 20000, 6)};
    recs[0].values = d[0].v;
    recs[1].values = d[1].v;
    recs[2].values = d[2].v;
    assert_int_equal(th_process(th, 0, recs, 3), SH_OK);
    assert_int_equal(th_counter(th, "records_total"), 3);
    assert_int_equal(th_gauge(th, "windows"), 1);

    r = get("127.0.0.1", ds->port, "/api/windows", etag0, NULL);
    assert_int_equal(r.code, 200); /* changed since etag0 */
    json_error_t e;
    json_t *j = json_loads(r.body.data, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "records")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "windows")), 1);
    json_decref(j);
    char etag1[96];
    strcpy(etag1, r.etag);
    assert_string_not_equal(etag0, etag1);
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/api/windows", etag1, NULL);
    assert_int_equal(r.code, 304); /* unchanged: no body */
    assert_int_equal(r.body.len, 0);
    sh_buf_free(&r.body);
    r = get("127.0.0.1", ds->port, "/api/windows", "\"garbage\"", NULL);
    assert_int_equal(r.code, 200);
    sh_buf_free(&r.body);

    /* unknown records are counted, not fatal */
    sh_value cv[2] = {sh_v_int(1), sh_v_str("home_page", 9)};
    sh_record click = {.schema = &click_schema, .values = cv, .slot = SH_NO_SLOT};
    assert_int_equal(th_process(th, 0, &click, 1), SH_OK);
    assert_int_equal(th_counter(th, "records_ignored_total"), 1);
    th_free(th);
}

static void ipv6_loopback_works(void **st)
{
    (void)st;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        skip();
    }
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (!ok)
        skip(); /* no IPv6 loopback on this machine */
    static const char *const kv[] = {"port=0", "address=::1", NULL};
    testhost *th = th_new(plugin(), kv);
    assert_int_equal(th_init(th), SH_OK);
    dashboard_sink *ds = th_state(th);
    reply r = get("[::1]", ds->port, "/api/windows", NULL, NULL);
    assert_int_equal(r.code, 200);
    sh_buf_free(&r.body);
    th_free(th);
}

/* Port taken: start fails with one line that names the section's key. */
static void port_in_use_is_one_clear_line(void **st)
{
    (void)st;
    int hold = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(bind(hold, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(hold, 1), 0);
    socklen_t sl = sizeof a;
    getsockname(hold, (struct sockaddr *)&a, &sl);
    char kv0[32];
    snprintf(kv0, sizeof kv0, "port=%d", ntohs(a.sin_port));
    const char *const kv[] = {kv0, NULL};
    testhost *th = th_new(plugin(), kv);
    assert_non_null(th);

    char path[] = "/tmp/sh-dash-log-XXXXXX";
    int lfd = mkstemp(path);
    assert_true(lfd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(lfd, 2);
    sh_rc rc = th_init(th);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(rc, SH_FATAL);
    char buf[1024] = {0};
    ssize_t n = pread(lfd, buf, sizeof buf - 1, 0);
    close(lfd);
    unlink(path);
    assert_true(n > 0);
    fprintf(stderr, "%s", buf);
    assert_non_null(strstr(buf, "test.ini:2: [sink.dashboard] port: cannot serve the dashboard on 127.0.0.1:"));
    assert_non_null(strstr(buf, "Address already in use"));
    assert_non_null(strstr(buf, "set port to a free port"));
    /* one line says it all (the host adds its "start failed (see above)") */
    const char *line = strstr(buf, "test.ini:2:");
    const char *eol = strchr(line, '\n');
    assert_true(strstr(line, "Address already in use") < eol);
    assert_true(strstr(line, "set port to a free port") < eol);
    th_free(th);
    close(hold);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_documents_fill_windows_and_replays_overwrite),
        cmocka_unit_test(department_documents_per_window_and_name),
        cmocka_unit_test(sessions_bucket_like_tumble),
        cmocka_unit_test(windows_are_bounded_oldest_go_first),
        cmocka_unit_test(odd_input_is_ignored_without_harm),
        cmocka_unit_test(json_holds_every_number),
        cmocka_unit_test(random_records_never_break_it),
        cmocka_unit_test(bad_config_values_are_refused),
        cmocka_unit_test(serves_page_assets_and_data),
        cmocka_unit_test(ipv6_loopback_works),
        cmocka_unit_test(port_in_use_is_one_clear_line),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
