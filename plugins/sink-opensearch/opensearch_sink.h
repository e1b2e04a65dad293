/* opensearch_sink.h - internal interfaces of the OpenSearch bulk sink.
 *
 * The plugin is split by concern; each .c file implements one block below.
 * Only the unit tests (compiled together with every .c of this folder) and
 * the other files of this plugin include this header. */
#ifndef SH_OPENSEARCH_SINK_H
#define SH_OPENSEARCH_SINK_H

#include "streamhost/plugin.h"
#include "streamhost/record_json.h"
#include "streamhost/sigv4.h"

#include <curl/curl.h>
#include <stdint.h>
#include <zlib.h>

/* ------------------------------------------------------------------------ */
/* Configuration (sink_config.c)                                              */
/* ------------------------------------------------------------------------ */

enum os_auth { OS_AUTH_NONE = 0, OS_AUTH_BASIC = 1, OS_AUTH_SIGV4 = 2 };

struct os_config;
typedef struct os_config {
    char *base_url;      /* scheme://host[:port][/path] without userinfo or trailing '/' */
    char *url_redacted;  /* the url as written, userinfo replaced: safe to log */
    char *host_header;   /* host[:port] exactly as curl sends it (SigV4 signs it) */
    char *base_path;     /* path part of base_url ("" or "/prefix") */
    const char *index_prefix;
    size_t batch_max_docs;
    size_t batch_max_bytes;
    int64_t flush_interval_ms;
    size_t max_in_flight;
    int gzip;
    int64_t retry_initial_ms, retry_max_ms;
    int64_t auth_timeout_ms; /* refusals (401, 403, TLS) stop the run after this long; 0 never */
    uint32_t retry_max_attempts; /* 0: forever */
    uint64_t buffer_max_bytes;
    int templates;
    int64_t timeout_ms;
    const char *tls_ca_file;
    int tls_verify;
    int auth;
    char *username;      /* basic */
    char *password;      /* basic; wiped on free */
    const char *password_env; /* the variable it came from (NULL: from the url) */
    char *basic_b64;     /* base64 of "username:password" (the Basic header value),
                          * redacted from anything logged; wiped on free */
    const char *aws_region, *aws_service;
    char *aws_access_key, *aws_secret_key, *aws_session_token; /* wiped on free */
} os_config;

/* Reads and checks every key; on mistakes logs one line for each, naming
 * the key's place (FILE:LINE) and the fix, and returns -1.  Also logs the
 * warnings (credentials in the url, tls.verify = false, SigV4 over http). */
int os_config_load(os_config *c, const sh_host *host, sh_ctx *ctx);
/* The plugin's validate callback (`streamhost check`): the same checks, the
 * same lines, no warnings, nothing kept.  SH_OK or SH_FATAL. */
sh_rc os_config_validate(const sh_host *host, sh_ctx *ctx);
void os_config_free(os_config *c);

extern const sh_config_key os_config_keys[];

/* ------------------------------------------------------------------------ */
/* Secrets in logs (redact.c)                                                 */
/* ------------------------------------------------------------------------ */

/* Copies `url` into out with any userinfo ("user:pass@") replaced by "***@".
 * Always NUL-terminates (truncating when out is short). */
void os_redact_url(const char *url, char *out, size_t outlen);
/* Replaces, in the NUL-terminated text buf (of size bufsize), every
 * occurrence of a secret of c (the password, the Basic header value, the AWS
 * secret key and session token) with "<redacted>": for text that comes from
 * the server or from curl (error bodies, reasons) before it is logged or put
 * into a dead letter.  Truncates rather than overflows. */
void os_redact_secrets(const struct os_config *c, char *buf, size_t bufsize);

/* ------------------------------------------------------------------------ */
/* Delivery accounting (ack_ledger.c)                                        */
/* ------------------------------------------------------------------------ */

/* Sequence numbers in process() order; documents complete in any order
 * (concurrent requests, retries, splits) and `base` is the length of the
 * contiguous completed prefix, which is what acked() reports. */
typedef struct ack_ledger {
    uint64_t base;  /* every seq < base is done */
    uint64_t next;  /* next seq to hand out */
    uint64_t *bits; /* done flags of seq in [base, next) at bit (seq & (nbits-1)) */
    size_t nbits;   /* power of two, >= 64 */
} ack_ledger;

/* Hands out the next sequence number into *seq; -1 when out of memory. */
int ack_ledger_push(ack_ledger *l, uint64_t *seq);
/* Marks seq done (idempotent) and advances the prefix. */
void ack_ledger_done(ack_ledger *l, uint64_t seq);
static inline uint64_t ack_ledger_acked(const ack_ledger *l) { return l->base; }
static inline uint64_t ack_ledger_pending(const ack_ledger *l) { return l->next - l->base; }
void ack_ledger_free(ack_ledger *l);

/* ------------------------------------------------------------------------ */
/* Retry timing (retry_backoff.c)                                             */
/* ------------------------------------------------------------------------ */

/* Delay before retry number `attempt` (1 = first retry): uniformly random in
 * [0, min(max_ms, initial_ms * 2^(attempt-1))] ("full jitter"). */
int64_t os_backoff_ms(uint32_t attempt, int64_t initial_ms, int64_t max_ms, uint64_t *rng);
/* xorshift64*: cheap, good enough to spread retries; never 0 state. */
uint64_t os_rand64(uint64_t *state);

/* The longest wait a Retry-After header can impose. */
#define OS_RETRY_AFTER_MAX_MS 60000
/* A Retry-After value (RFC 9110: delay-seconds or an HTTP-date; len bytes,
 * surrounding whitespace allowed) as ms to wait from now_ms (epoch ms),
 * clamped to [0, OS_RETRY_AFTER_MAX_MS]; -1 when it is neither. */
int64_t os_retry_after_ms(const char *value, size_t len, int64_t now_ms);

/* ------------------------------------------------------------------------ */
/* Batches of documents (bulk_body.c)                                         */
/* ------------------------------------------------------------------------ */

/* One document inside a batch body: action line then source line. */
typedef struct os_doc {
    uint64_t seq;        /* ack_ledger sequence number */
    uint32_t off;        /* offset of the action line in batch->body */
    uint32_t action_len; /* bytes of the action line, '\n' included */
    uint32_t len;        /* bytes of both lines, both '\n' included */
    int32_t slot;        /* the record's input position, so a dead letter */
    int64_t offset;      /* says where its document came from */
    int64_t time;
    const sh_schema *schema; /* valid for the upstream plugin's lifetime */
} os_doc;

/* A bulk request's worth of documents, kept until each is resolved so that
 * retries and splits can resend exactly the bytes first rendered. */
typedef struct os_batch {
    struct os_batch *next;
    sh_buf body;        /* NDJSON, uncompressed */
    sh_buf gz;          /* gzip of body, valid when gz_valid */
    int gz_valid;
    os_doc *docs;
    size_t ndocs, capdocs;
    uint32_t attempts;  /* sends that failed so far */
    int64_t not_before; /* monotonic ms before which it must not be sent */
    int64_t opened_ms;  /* monotonic ms of its first document */
    size_t accounted;   /* bytes counted in os_sink.live_bytes for it */
} os_batch;

/* Action-line prefix cached per schema pointer:
 * {"index":{"_index":"<prefix><schema name>" */
typedef struct os_index_line {
    const sh_schema *schema;
    char *text;
    size_t len;
} os_index_line;

typedef struct os_renderer {
    const char *index_prefix;
    os_index_line *lines;
    size_t nlines, caplines;
} os_renderer;

/* Appends record r to b as one bulk document with sequence number seq.
 * Returns 0, or -1 when out of memory (b unchanged). */
int os_render_doc(os_renderer *rd, os_batch *b, const sh_record *r, uint64_t seq);
void os_renderer_free(os_renderer *rd);

/* Appends doc d of src (its bytes and bookkeeping) to dst; 0 or -1 (OOM). */
int os_batch_copy_doc(os_batch *dst, const os_batch *src, const os_doc *d);
/* Empties b for reuse (keeps its memory). */
void os_batch_reset(os_batch *b);
void os_batch_free(os_batch *b);
/* The source JSON of doc d (without the trailing newline). */
static inline const char *os_doc_source(const os_batch *b, const os_doc *d, size_t *len)
{
    *len = d->len - d->action_len - 1;
    return b->body.data + d->off + d->action_len;
}

/* Gzips b->body into b->gz with the reusable stream z (initialised by
 * os_gzip_init).  Returns 0 or -1. */
int os_gzip_init(z_stream *z);
int os_gzip_batch(z_stream *z, os_batch *b);

/* ------------------------------------------------------------------------ */
/* Bulk responses (bulk_response.c)                                           */
/* ------------------------------------------------------------------------ */

enum os_verdict { OS_ITEM_OK = 0, OS_ITEM_RETRY = 1, OS_ITEM_REJECT = 2 };

/* What to do with an item of this HTTP status: 2xx done, 429 and 5xx retry,
 * anything else is a permanent rejection. */
int os_item_verdict(int status);

/* Called for every item that is not a success, in request order. */
typedef void (*os_item_fn)(void *arg, size_t index, int status, const char *type,
                           const char *reason);

/* Parses a _bulk response for a request of `ndocs` documents.  Returns the
 * number of successful items (calling fn for each other one), or -1 when the
 * body is not a bulk response for that request (err says why); then no item
 * may be trusted and the whole request must be retried.  A bulk response
 * has exactly ndocs items, each {"index":{"status":N,...}}: "errors":false
 * without them is not one.  An item that does not answer the index action
 * with an HTTP status goes to fn as status 500, type "unreadable_item". */
long os_bulk_response_parse(const char *body, size_t len, size_t ndocs, os_item_fn fn,
                            void *arg, char *err, size_t errlen);
/* The same without the fast path for the compact all-success answer (the
 * tests and the fuzzer check that both read every input alike). */
long os_bulk_response_parse_full(const char *body, size_t len, size_t ndocs, os_item_fn fn,
                                 void *arg, char *err, size_t errlen);

/* Extracts "<type>: <reason>" from an OpenSearch error response body
 * ({"error":{"type":..,"reason":..},"status":..}) into out, or a sanitised
 * excerpt of the body when it is not one. */
void os_error_summary(const char *body, size_t len, char *out, size_t outlen);

/* ------------------------------------------------------------------------ */
/* AWS Signature Version 4 (include/streamhost/sigv4.h, shared with the host)  */
/* ------------------------------------------------------------------------ */

typedef sh_sigv4_header sigv4_header;
typedef sh_sigv4_request sigv4_request;
typedef sh_sigv4_result sigv4_result;

/* sh_sigv4_sign with the canonical request and string to sign (tests compare
 * them with AWS's published test suite) appended to sh_bufs when not NULL.
 * Returns 0, or -1 on a malformed query or out of memory. */
static inline int sigv4_sign(const sigv4_request *rq, sigv4_result *out, sh_buf *creq, sh_buf *sts)
{
    char *c = NULL, *t = NULL;
    int rc = sh_sigv4_sign(rq, out, creq ? &c : NULL, sts ? &t : NULL);
    if (rc == 0 && creq)
        sh_buf_puts(creq, c);
    if (rc == 0 && sts)
        sh_buf_puts(sts, t);
    free(c);
    free(t);
    return rc;
}
#define sigv4_amz_date sh_sigv4_amz_date

/* ------------------------------------------------------------------------ */
/* Index templates (index_templates.c)                                        */
/* ------------------------------------------------------------------------ */

#define OS_NTEMPLATES 3

/* The three indices of the clickstream pipeline and their mappings (equal to
 * the reference job's), embedded so an installed plugin needs no data files. */
extern const char *const os_template_index[OS_NTEMPLATES];
extern const char *const os_template_mappings[OS_NTEMPLATES];

enum os_template_state { OS_TPL_WAITING = 0, OS_TPL_IN_FLIGHT, OS_TPL_DONE, OS_TPL_GAVE_UP };

typedef struct os_template {
    int state;
    uint32_t attempts;
    int64_t not_before;
    char *path; /* "/_index_template/streamhost-<prefix><index>", after base_path */
    sh_buf body;
} os_template;

/* Builds the request path and body of template i for index_prefix. */
int os_template_build(os_template *t, int i, const char *index_prefix);

/* ------------------------------------------------------------------------ */
/* The sink instance (sink_plugin.c, http_requests.c, delivery.c)            */
/* ------------------------------------------------------------------------ */

typedef struct os_queue {
    os_batch *head, *tail;
    size_t n;
} os_queue;

/* One concurrent HTTP request slot. */
typedef struct os_request {
    CURL *easy;
    struct curl_slist *headers;
    sh_buf resp;
    os_batch *batch;      /* bulk request, or NULL */
    int template_idx;     /* template PUT, or -1 */
    size_t sent_bytes;    /* body bytes on the wire (in_flight_bytes gauge) */
    int64_t started_ms;
    int64_t retry_after_ms; /* the answer's Retry-After as ms, or -1 */
    int busy;
    char errbuf[CURL_ERROR_SIZE];
} os_request;

typedef struct os_metrics {
    uint64_t *bulk_requests, *docs_indexed, *docs_rejected, *retries, *request_failures;
    sh_histogram *request_seconds; /* NULL with a host older than ABI 1.1's histograms */
    int64_t *in_flight_bytes, *buffered_docs, *buffered_bytes;
} os_metrics;

typedef struct os_sink {
    const sh_host *host;
    sh_ctx *ctx;
    os_config cfg;
    os_renderer renderer;
    CURLM *multi;
    os_request *reqs;
    size_t nreqs;
    size_t in_flight;             /* busy request slots */
    os_batch *open;               /* batch being filled by process() */
    os_queue pending;             /* sealed batches waiting to be sent */
    os_batch *spare;              /* reusable batches */
    size_t nspare;
    ack_ledger ledger;
    uint64_t live_bytes;          /* bytes held by every unresolved batch */
    uint64_t live_docs;           /* documents not yet resolved */
    os_template templates[OS_NTEMPLATES];
    int templates_ready;          /* bulk requests may go */
    z_stream z;
    int z_ready;
    uint64_t rng;
    os_metrics m;
    int fatal;                    /* a host service failed: return SH_FATAL */
    /* error reporting without flooding the log */
    uint64_t failures_since_ok;
    int64_t last_fail_log_ms;
    int fail_logged;              /* a failure line awaits its recovery line */
    int64_t refused_since;        /* first refusal (401, 403, TLS) since the last success; 0 none */
    int fail_logged_config;       /* ... and it was a configuration problem */
    char fail_logged_why[512];    /* ... and its cause, as logged */
    int templates_gave_up_logged; /* one line for templates given up, not one each */
    int warned_413;
    int64_t hold_until;           /* monotonic ms: no request before (Retry-After) */
    sh_buf url;                   /* scratch: a request's URL */
    sh_buf dead;                  /* scratch: a dead letter's payload */
} os_sink;

/* http_requests.c: request slots, building and signing requests, curl. */
int os_http_init(os_sink *s);
void os_http_free(os_sink *s);
/* Starts a bulk request for b on a free slot; 0, or -1 (b untouched). */
int os_http_start_bulk(os_sink *s, os_batch *b);
int os_http_start_template(os_sink *s, int idx);
/* Runs curl without blocking; wait_ms > 0 first waits up to that long for
 * socket activity (only flush(final) does). */
void os_http_perform(os_sink *s, int wait_ms);
/* The next request that finished (its slot is free again, *cc and *status
 * say how it ended), or NULL.  The caller decides what the answer means
 * (os_run_requests in delivery.c), so this file knows nothing of it. */
os_request *os_http_finished(os_sink *s, CURLcode *cc, long *status);

/* batch_queue.c: reusable batches, byte accounting, the send queue. */
os_batch *os_batch_get(os_sink *s);
/* Brings live_bytes up to date with b's current size (body, gzip copy and
 * document table: everything the buffer limit should see). */
void os_batch_account(os_sink *s, os_batch *b);
void os_batch_release(os_sink *s, os_batch *b);
void os_seal_open(os_sink *s);
void os_queue_push(os_queue *q, os_batch *b);
void os_queue_push_front(os_queue *q, os_batch *b);

/* failure_log.c: one line per failure streak, one per recovery; cc is the
 * curl code (CURLE_OK when the server answered status). */
void os_note_failure(os_sink *s, const char *subject, CURLcode cc, long status, const char *what);
/* Why request rq failed (curl code cc, or HTTP status with its body) as one
 * clause that names the cause and the fix, e.g. "HTTP 401 Unauthorized:
 * authentication failed for user 'w'; check username and the password in
 * environment variable P (password_env)" or "TLS: the server's certificate
 * is not signed by a CA in tls.ca_file 'f' (...); set tls.ca_file to the CA
 * that signed it".  Secrets redacted (os_redact_secrets). */
void os_failure_why(const os_sink *s, const os_request *rq, CURLcode cc, long status, char *out,
                    size_t outlen);
/* The one classifier of failures, for the log's level and for auth.timeout:
 * an outage passes by itself (no answer, 408, 429, 5xx); a configuration
 * problem needs the operator (400, 404, other 4xx, an unsupported protocol);
 * a refusal is one of those that auth.timeout bounds (401, 403, and TLS: the
 * certificate, the CA file, the handshake). */
typedef enum { OS_FAIL_OUTAGE, OS_FAIL_CONFIG, OS_FAIL_REFUSED } os_fail_kind;
os_fail_kind os_failure_kind(CURLcode cc, long status);
void os_note_success(os_sink *s);

/* index_templates.c: the answer to a template PUT; all answered for good? */
void os_template_complete(os_sink *s, os_request *rq, CURLcode cc, long status);
int os_templates_settled(const os_sink *s);

/* retry_backoff.c, for a 429 or 503 answer with Retry-After: holds every
 * request to the cluster until then and returns that moment (monotonic ms);
 * else 0. */
int64_t os_retry_after_hold(os_sink *s, const os_request *rq, long status);

/* delivery.c: results, retries, dead letters, dispatch. */
/* Starts whatever may start now: templates first, then due batches. */
void os_dispatch(os_sink *s);
/* One full step: run curl, dispatch, run curl again. */
void os_pump(os_sink *s);
/* A request finished: classify, resolve documents, schedule retries. */
void os_delivery_complete(os_sink *s, os_request *rq, CURLcode cc, long status);
/* os_http_perform, then os_delivery_complete for every finished request. */
void os_run_requests(os_sink *s, int wait_ms);
/* Documents of b given up on (retry.max_attempts) or rejected as a whole:
 * every document goes to the dead-letter output with `reason`. */
void os_dead_letter_batch(os_sink *s, os_batch *b, const char *reason);

#endif
