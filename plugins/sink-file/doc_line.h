/* doc_line.h - one record as one JSON line, in the shape of an OpenSearch
 * bulk document: {"_index":..., "_id":..., "_source":{...}}. */
#ifndef FILE_SINK_DOC_LINE_H
#define FILE_SINK_DOC_LINE_H
#include "streamhost/record_json.h"

/* Appends the line (with its "\n") for `r` to `b`: _index is the schema
 * (stream) name, _id the record id (left out when empty), _source the fields
 * in schema order. */
void doc_line_render(sh_buf *b, const sh_record *r);
#endif
