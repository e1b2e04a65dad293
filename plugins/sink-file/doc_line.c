/* doc_line.c - see doc_line.h.  The same shape as the documents the
 * OpenSearch sink indexes, so a file run can be diffed against an index. */
#include "doc_line.h"

void doc_line_render(sh_buf *b, const sh_record *r)
{
    sh_buf_puts(b, "{\"_index\":");
    sh_json_str(b, r->schema->name, strlen(r->schema->name));
    if (r->id.len) {
        sh_buf_puts(b, ",\"_id\":");
        sh_json_str(b, r->id.ptr, r->id.len);
    }
    sh_buf_puts(b, ",\"_source\":");
    sh_json_record(b, r);
    sh_buf_puts(b, "}\n");
}
