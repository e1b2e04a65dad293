/* failure_log.c - telling the operator about failures without flooding
 * the log: at most one failure line every FAIL_LOG_EVERY_MS (a change from an
 * outage to a configuration error is reported at once) and one recovery line
 * after failures were reported.  Lines name the redacted url, never a
 * credential. */
#include "opensearch_sink.h"

#include <inttypes.h>

#define FAIL_LOG_EVERY_MS 30000

static const char *hint_for(long status)
{
    switch (status) {
    case 401: return "; check username/password_env or the AWS credentials";
    case 403: return "; the identity lacks permission for _bulk on these indices";
    case 404: return "; check url (host and path prefix)";
    case 400: return "; OpenSearch refused the request itself";
    default: return "";
    }
}

void os_note_failure(os_sink *s, const char *subject, long status, const char *what)
{
    int64_t now = s->host->mono_ms(s->ctx);
    int config_problem = status >= 400 && status < 500 && status != 408 && status != 429;
    s->failures_since_ok++;
    /* a change of kind (outage -> refused credentials) is reported at once */
    if (s->fail_logged && now - s->last_fail_log_ms < FAIL_LOG_EVERY_MS &&
        config_problem == s->fail_logged_config)
        return;
    s->last_fail_log_ms = now;
    s->fail_logged = 1;
    s->fail_logged_config = config_problem;
    s->host->log(s->ctx, config_problem ? SH_LOG_ERROR : SH_LOG_WARN,
                 "%s at %s failed: %s%s (%" PRIu64 " failed in a row; retrying with backoff; "
                 "%" PRIu64 " documents held)",
                 subject, s->cfg.url_redacted, what, hint_for(status), s->failures_since_ok,
                 s->live_docs);
}

void os_note_success(os_sink *s)
{
    if (s->fail_logged && s->host->mono_ms(s->ctx) - s->last_fail_log_ms >= 1000) {
        s->host->log(s->ctx, SH_LOG_INFO,
                     "OpenSearch at %s accepts requests again after %" PRIu64 " failed ones",
                     s->cfg.url_redacted, s->failures_since_ok);
        s->fail_logged = 0;
    }
    s->failures_since_ok = 0;
}
