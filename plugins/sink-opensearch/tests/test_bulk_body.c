/* Bulk NDJSON rendering, batch copies and gzip bodies. */
#include "sink_fixture.h"

#include <zlib.h>

static void renders_action_and_source_lines(void **st)
{
    (void)st;
    os_renderer rd = {.index_prefix = ""};
    os_batch b = {0};
    fx_rec f;
    fx_make(&f, 7);
    assert_int_equal(os_render_doc(&rd, &b, &f.r, 42), 0);
    assert_string_equal(b.body.data,
                        "{\"index\":{\"_index\":\"user_session_counts\",\"_id\":\"c7\"}}\n"
                        "{\"userSessionCount\":7,\"userSessionCountWithOrderCheckout\":3,"
                        "\"percentSessionswithBuy\":50,\"windowBeginTime\":70000,"
                        "\"windowEndTime\":80000}\n");
    assert_int_equal(b.ndocs, 1);
    assert_int_equal(b.docs[0].seq, 42);
    size_t len;
    const char *src = os_doc_source(&b, &b.docs[0], &len);
    assert_int_equal(len, strlen(src) - 1); /* without the newline */
    assert_memory_equal(src, "{\"userSessionCount\":7,", 22);
    free(b.docs);
    sh_buf_free(&b.body);
    os_renderer_free(&rd);
}

static void omits_empty_id_and_applies_prefix(void **st)
{
    (void)st;
    os_renderer rd = {.index_prefix = "prod-"};
    os_batch b = {0};
    fx_rec f;
    fx_make(&f, 1);
    f.r.id.len = 0;
    assert_int_equal(os_render_doc(&rd, &b, &f.r, 0), 0);
    const char *want = "{\"index\":{\"_index\":\"prod-user_session_counts\"}}\n";
    assert_memory_equal(b.body.data, want, strlen(want));
    assert_int_equal(b.docs[0].action_len, strlen(want));
    free(b.docs);
    sh_buf_free(&b.body);
    os_renderer_free(&rd);
}

static void escapes_ids_and_strings(void **st)
{
    (void)st;
    static const sh_field fields[] = {{"departmentName", SH_STRING}, {"deptList", SH_STRLIST}};
    static const sh_schema schema = {"departments_count", 2, fields};
    sh_str items[] = {{"a\"b", 3}, {"c\n", 2}};
    sh_value v[2] = {sh_v_str("x\\y", 3), {.type = SH_STRLIST}};
    v[1].u.l.items = items;
    v[1].u.l.n = 2;
    sh_record r = {.schema = &schema, .id = {"id\"1", 4}, .values = v};
    os_renderer rd = {.index_prefix = ""};
    os_batch b = {0};
    assert_int_equal(os_render_doc(&rd, &b, &r, 0), 0);
    assert_string_equal(b.body.data,
                        "{\"index\":{\"_index\":\"departments_count\",\"_id\":\"id\\\"1\"}}\n"
                        "{\"departmentName\":\"x\\\\y\",\"deptList\":[\"a\\\"b\",\"c\\n\"]}\n");
    free(b.docs);
    sh_buf_free(&b.body);
    os_renderer_free(&rd);
}

static void copies_documents_between_batches(void **st)
{
    (void)st;
    os_renderer rd = {.index_prefix = ""};
    os_batch a = {0}, c = {0};
    for (int i = 0; i < 3; i++) {
        fx_rec f;
        fx_make(&f, i);
        assert_int_equal(os_render_doc(&rd, &a, &f.r, (uint64_t)i), 0);
    }
    assert_int_equal(os_batch_copy_doc(&c, &a, &a.docs[2]), 0);
    assert_int_equal(os_batch_copy_doc(&c, &a, &a.docs[0]), 0);
    assert_int_equal(c.ndocs, 2);
    assert_int_equal(c.docs[0].seq, 2);
    assert_int_equal(c.docs[1].seq, 0);
    assert_int_equal(c.docs[0].off, 0);
    assert_int_equal(c.docs[1].off, a.docs[2].len);
    assert_memory_equal(c.body.data, a.body.data + a.docs[2].off, a.docs[2].len);
    assert_memory_equal(c.body.data + c.docs[1].off, a.body.data, a.docs[0].len);
    free(a.docs);
    free(c.docs);
    sh_buf_free(&a.body);
    sh_buf_free(&c.body);
    os_renderer_free(&rd);
}

static void gzip_body_round_trips(void **st)
{
    (void)st;
    os_renderer rd = {.index_prefix = ""};
    os_batch b = {0};
    for (int i = 0; i < 500; i++) {
        fx_rec f;
        fx_make(&f, i);
        assert_int_equal(os_render_doc(&rd, &b, &f.r, (uint64_t)i), 0);
    }
    z_stream z;
    assert_int_equal(os_gzip_init(&z), 0);
    assert_int_equal(os_gzip_batch(&z, &b), 0);
    assert_true(b.gz_valid);
    assert_true(b.gz.len * 4 < b.body.len); /* JSON like this shrinks a lot */
    assert_int_equal((unsigned char)b.gz.data[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)b.gz.data[1], 0x8b);
    /* the second time reuses the stream */
    b.gz_valid = 0;
    assert_int_equal(os_gzip_batch(&z, &b), 0);
    char *out = malloc(b.body.len + 1);
    uLongf outlen = b.body.len;
    z_stream in;
    memset(&in, 0, sizeof in);
    inflateInit2(&in, 15 + 16);
    in.next_in = (Bytef *)b.gz.data;
    in.avail_in = (uInt)b.gz.len;
    in.next_out = (Bytef *)out;
    in.avail_out = (uInt)outlen;
    assert_int_equal(inflate(&in, Z_FINISH), Z_STREAM_END);
    assert_int_equal(in.total_out, b.body.len);
    assert_memory_equal(out, b.body.data, b.body.len);
    inflateEnd(&in);
    deflateEnd(&z);
    free(out);
    free(b.docs);
    sh_buf_free(&b.body);
    sh_buf_free(&b.gz);
    os_renderer_free(&rd);
}

static void templates_carry_reference_mappings(void **st)
{
    (void)st;
    os_template t = {0};
    assert_int_equal(os_template_build(&t, 2, "dev-"), 0);
    assert_string_equal(t.path, "/_index_template/streamhost-dev-departments_count");
    assert_non_null(strstr(t.body.data, "\"index_patterns\":[\"dev-departments_count\"]"));
    assert_non_null(strstr(t.body.data, "\"departmentName\":{\"type\":\"text\",\"fields\":"
                                        "{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}}"));
    assert_non_null(strstr(t.body.data, "\"windowEndTime\":{\"type\":\"date\"}"));
    free(t.path);
    sh_buf_free(&t.body);
    assert_non_null(strstr(os_template_mappings[0], "\"userId\":{\"type\":\"long\"}"));
    assert_non_null(strstr(os_template_mappings[1], "\"percentSessionswithBuy\":{\"type\":\"double\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_action_and_source_lines),
        cmocka_unit_test(omits_empty_id_and_applies_prefix),
        cmocka_unit_test(escapes_ids_and_strings),
        cmocka_unit_test(copies_documents_between_batches),
        cmocka_unit_test(gzip_body_round_trips),
        cmocka_unit_test(templates_carry_reference_mappings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
