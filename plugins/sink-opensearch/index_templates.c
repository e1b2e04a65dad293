/* index_templates.c - the clickstream indices' mappings, installed as index
 * templates before the first document is written.
 *
 * Without them the first document would create its index with dynamic
 * mappings: epoch-millisecond times would become `long` instead of `date`
 * and the dashboards' date histograms would not work.  The mappings are the
 * reference job's (docs/semantics.md §6), embedded here so
 * an installed plugin needs no data files.  Composable templates
 * (_index_template, OpenSearch 1.0+) apply when an index is created; an index
 * that already exists keeps its mapping.
 *
 * Installation runs on the request slots before any _bulk (os_dispatch holds
 * documents back until every template is settled): a template that cannot be
 * installed *yet* is retried with backoff; one refused for good is logged with
 * the fix and documents go anyway. */
#include "opensearch_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const os_template_index[OS_NTEMPLATES] = {
    "user_session_details", "user_session_counts", "departments_count"};

const char *const os_template_mappings[OS_NTEMPLATES] = {
    /* user_session_details */
    "{\"properties\":{"
    "\"userId\":{\"type\":\"long\"},"
    "\"eventCount\":{\"type\":\"integer\"},"
    "\"orderCheckoutEventCount\":{\"type\":\"integer\"},"
    "\"deptList\":{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}},"
    "\"eventKey\":{\"type\":\"integer\"},"
    "\"windowBeginTime\":{\"type\":\"date\"},"
    "\"windowEndTime\":{\"type\":\"date\"}}}",
    /* user_session_counts */
    "{\"properties\":{"
    "\"userSessionCount\":{\"type\":\"integer\"},"
    "\"userSessionCountWithOrderCheckout\":{\"type\":\"integer\"},"
    "\"percentSessionswithBuy\":{\"type\":\"double\"},"
    "\"windowBeginTime\":{\"type\":\"date\"},"
    "\"windowEndTime\":{\"type\":\"date\"}}}",
    /* departments_count */
    "{\"properties\":{"
    "\"departmentName\":{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}},"
    "\"departmentCount\":{\"type\":\"integer\"},"
    "\"windowBeginTime\":{\"type\":\"date\"},"
    "\"windowEndTime\":{\"type\":\"date\"}}}"};

/* Priority 200: above templates left at the default 0 (e.g. a catch-all
 * "*" template) so our mappings win for these exact names. */
int os_template_build(os_template *t, int i, const char *index_prefix)
{
    size_t n = strlen(index_prefix) + strlen(os_template_index[i]) + 40;
    t->path = malloc(n);
    if (!t->path)
        return -1;
    snprintf(t->path, n, "/_index_template/streamhost-%s%s", index_prefix,
             os_template_index[i]);
    t->body.len = 0;
    sh_buf_puts(&t->body, "{\"index_patterns\":[\"");
    sh_buf_puts(&t->body, index_prefix);
    sh_buf_puts(&t->body, os_template_index[i]);
    sh_buf_puts(&t->body, "\"],\"priority\":200,\"template\":{\"mappings\":");
    sh_buf_puts(&t->body, os_template_mappings[i]);
    sh_buf_puts(&t->body, "},\"_meta\":{\"managed_by\":\"streamhost sink-opensearch\"}}");
    t->state = OS_TPL_WAITING;
    t->attempts = 0;
    t->not_before = 0;
    return t->body.oom ? -1 : 0;
}

/* An answer to a template PUT. */
void os_template_complete(os_sink *s, os_request *rq, CURLcode cc, long status)
{
    os_template *t = &s->templates[rq->template_idx];
    const char *name = t->path + strlen("/_index_template/");
    char why[480];
    if (cc == CURLE_OK && status >= 200 && status < 300) {
        t->state = OS_TPL_DONE;
        os_note_success(s);
        s->host->log(s->ctx, SH_LOG_DEBUG, "index template %s installed", name);
        return;
    }
    os_failure_why(s, rq, cc, cc == CURLE_OK ? status : 0, why, sizeof why);
    /* Unreachable, overloaded or not yet authenticated: documents would fail
     * the same way, so they wait for the templates. */
    int transient = cc != CURLE_OK || status == 401 || status == 408 || status == 429 || status >= 500;
    t->attempts++;
    /* a bounded retry budget bounds this wait too */
    if (transient && !(s->cfg.retry_max_attempts && t->attempts > s->cfg.retry_max_attempts)) {
        int64_t delay = os_backoff_ms(t->attempts, s->cfg.retry_initial_ms, s->cfg.retry_max_ms,
                                      &s->rng);
        t->state = OS_TPL_WAITING;
        t->not_before = s->host->mono_ms(s->ctx) + delay;
        int64_t earliest = os_retry_after_hold(s, rq, status);
        if (t->not_before < earliest)
            t->not_before = earliest;
        char subject[160];
        snprintf(subject, sizeof subject, "installing index template %s (documents wait for it)",
                 name);
        os_note_failure(s, subject, cc, cc == CURLE_OK ? status : 0, why);
        return;
    }
    /* Refused for good (403 without template permission, 400 on an old
     * cluster) or out of attempts: write documents anyway, as Logstash does,
     * and say what the operator should do. */
    t->state = OS_TPL_GAVE_UP;
    /* One line for the templates, not one each: they fail alike. */
    if (s->templates_gave_up_logged) {
        s->host->log(s->ctx, SH_LOG_DEBUG, "index template %s not installed either: %s", name, why);
        return;
    }
    s->templates_gave_up_logged = 1;
    /* the cause already logged (os_note_failure) is not repeated */
    int said = s->fail_logged && strcmp(why, s->fail_logged_why) == 0;
    if (transient)
        s->host->log(s->ctx, SH_LOG_ERROR,
                     "index templates for %s* not installed after %u attempts (retry.max_attempts)"
                     ": %s; documents are written anyway, so a new index gets dynamic mappings",
                     s->cfg.index_prefix, t->attempts, said ? "the failure logged above" : why);
    else
        s->host->log(s->ctx, SH_LOG_ERROR,
                     "index templates for %s* refused: %s; documents are written anyway, so a new "
                     "index gets dynamic mappings (or install the mappings yourself and set "
                     "templates = false)",
                     s->cfg.index_prefix, why);
}

int os_templates_settled(const os_sink *s)
{
    for (int i = 0; i < OS_NTEMPLATES; i++)
        if (s->templates[i].state == OS_TPL_WAITING || s->templates[i].state == OS_TPL_IN_FLIGHT)
            return 0;
    return 1;
}
