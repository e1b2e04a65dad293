/* bulk_body.c - records rendered as _bulk NDJSON, and batches of them.
 *
 * Each record becomes two lines appended to the batch body:
 *   {"index":{"_index":"<prefix><stream>","_id":"<id>"}}
 *   {...the record's fields...}
 * The action line's constant part is built once per schema; the source goes
 * through record_json.h straight into the batch buffer, so rendering costs no
 * allocation per record (buffers grow geometrically and are reused). */
#include "opensearch_sink.h"

#include <stdlib.h>
#include <string.h>

static const os_index_line *index_line(os_renderer *rd, const sh_schema *schema)
{
    for (size_t i = 0; i < rd->nlines; i++)
        if (rd->lines[i].schema == schema)
            return &rd->lines[i];
    if (rd->nlines == rd->caplines) {
        size_t cap = rd->caplines ? rd->caplines * 2 : 4;
        os_index_line *p = realloc(rd->lines, cap * sizeof *p);
        if (!p)
            return NULL;
        rd->lines = p;
        rd->caplines = cap;
    }
    sh_buf b = {0};
    sh_buf_puts(&b, "{\"index\":{\"_index\":");
    size_t plen = strlen(rd->index_prefix), nlen = strlen(schema->name);
    char *name = malloc(plen + nlen + 1);
    if (!name) {
        sh_buf_free(&b);
        return NULL;
    }
    memcpy(name, rd->index_prefix, plen);
    memcpy(name + plen, schema->name, nlen + 1);
    sh_json_str(&b, name, plen + nlen);
    free(name);
    if (b.oom) {
        sh_buf_free(&b);
        return NULL;
    }
    os_index_line *l = &rd->lines[rd->nlines++];
    l->schema = schema;
    l->text = b.data;
    l->len = b.len;
    return l;
}

static int reserve_docs(os_batch *b)
{
    if (b->ndocs < b->capdocs)
        return 0;
    size_t cap = b->capdocs ? b->capdocs * 2 : 256;
    os_doc *p = realloc(b->docs, cap * sizeof *p);
    if (!p)
        return -1;
    b->docs = p;
    b->capdocs = cap;
    return 0;
}

int os_render_doc(os_renderer *rd, os_batch *b, const sh_record *r, uint64_t seq)
{
    const os_index_line *il = index_line(rd, r->schema);
    if (!il || reserve_docs(b) != 0)
        return -1;
    size_t start = b->body.len;
    sh_buf_add(&b->body, il->text, il->len);
    if (r->id.len) {
        sh_buf_puts(&b->body, ",\"_id\":");
        sh_json_str(&b->body, r->id.ptr, r->id.len);
    }
    sh_buf_add(&b->body, "}}\n", 3);
    size_t action_end = b->body.len;
    sh_json_record(&b->body, r);
    sh_buf_putc(&b->body, '\n');
    if (b->body.oom) {
        b->body.oom = 0;
        b->body.len = start;
        return -1;
    }
    os_doc *d = &b->docs[b->ndocs++];
    d->seq = seq;
    d->off = (uint32_t)start;
    d->action_len = (uint32_t)(action_end - start);
    d->len = (uint32_t)(b->body.len - start);
    d->slot = r->slot;
    d->offset = r->offset;
    d->time = r->time;
    d->schema = r->schema;
    b->gz_valid = 0;
    return 0;
}

int os_batch_copy_doc(os_batch *dst, const os_batch *src, const os_doc *d)
{
    if (reserve_docs(dst) != 0 || sh_buf_reserve(&dst->body, d->len) != 0) {
        dst->body.oom = 0;
        return -1;
    }
    os_doc *nd = &dst->docs[dst->ndocs++];
    *nd = *d;
    nd->off = (uint32_t)dst->body.len;
    sh_buf_add(&dst->body, src->body.data + d->off, d->len);
    dst->gz_valid = 0;
    return 0;
}

void os_batch_reset(os_batch *b)
{
    b->next = NULL;
    b->body.len = 0;
    b->body.oom = 0;
    b->gz.len = 0;
    b->gz.oom = 0;
    b->gz_valid = 0;
    b->ndocs = 0;
    b->attempts = 0;
    b->not_before = 0;
    b->opened_ms = 0;
    b->accounted = 0;
}

void os_batch_free(os_batch *b)
{
    if (!b)
        return;
    sh_buf_free(&b->body);
    sh_buf_free(&b->gz);
    free(b->docs);
    free(b);
}

void os_renderer_free(os_renderer *rd)
{
    for (size_t i = 0; i < rd->nlines; i++)
        free(rd->lines[i].text);
    free(rd->lines);
    rd->lines = NULL;
    rd->nlines = rd->caplines = 0;
}

/* Level 1: JSON of this kind still shrinks about 8x, at several hundred MB/s
 * per core; higher levels buy a few percent for several times the CPU, on the
 * thread that also runs the pipeline. */
int os_gzip_init(z_stream *z)
{
    memset(z, 0, sizeof *z);
    /* windowBits 15 + 16: gzip framing, which Content-Encoding: gzip means */
    return deflateInit2(z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

int os_gzip_batch(z_stream *z, os_batch *b)
{
    if (b->gz_valid)
        return 0;
    if (deflateReset(z) != Z_OK)
        return -1;
    size_t bound = deflateBound(z, (uLong)b->body.len);
    b->gz.len = 0;
    if (sh_buf_reserve(&b->gz, bound) != 0) {
        b->gz.oom = 0;
        return -1;
    }
    z->next_in = (Bytef *)b->body.data;
    z->avail_in = (uInt)b->body.len;
    z->next_out = (Bytef *)b->gz.data;
    z->avail_out = (uInt)bound;
    int rc = deflate(z, Z_FINISH);
    if (rc != Z_STREAM_END)
        return -1;
    b->gz.len = bound - z->avail_out;
    b->gz_valid = 1;
    return 0;
}
