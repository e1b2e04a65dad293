/* /metrics renders the Prometheus text format: one HELP and TYPE per
 * family whatever the number of components, histograms as cumulative
 * buckets with _sum and _count, watermarks in seconds, escaped text.  (The
 * real parser, prometheus_client, reads a live scrape in
 * tests/integration/metrics_endpoint.sh.)
 *
 * The metrics server cannot be starved (issue 11 I): while 40 connections
 * trickle a request one byte every 2 s and 40 more sit idle, reconnecting
 * whenever the server drops them, /health still answers within 1 s, every
 * time it is asked.  Real sockets, loopback only, about 6 s in all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_metrics.h"
#include "metrics.h"
#include "pipeline.h"

#define NSLOW 40
#define NIDLE 40

static int port;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A port on 127.0.0.1 where nothing listens (bound, then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    return ntohs(sa.sin_port);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- the attackers ---------------------------------------------------- */

typedef struct attack {
    int fds[NSLOW + NIDLE];
    int64_t last_byte[NSLOW];
    size_t sent[NSLOW];
    volatile int stop;
    int reconnects;
} attack;

static const char slow_request[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";

/* Gone when the server closed it (EOF or reset). */
static int closed_by_server(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    char c;
    ssize_t k = recv(fd, &c, 1, MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void *attacker(void *arg)
{
    attack *a = arg;
    while (!a->stop) {
        int64_t now = now_ms();
        for (int i = 0; i < NSLOW + NIDLE; i++) {
            if (a->fds[i] >= 0 && closed_by_server(a->fds[i])) {
                close(a->fds[i]);
                a->fds[i] = -1;
            }
            if (a->fds[i] < 0) { /* persistent: take the slot again */
                a->fds[i] = dial();
                a->reconnects++;
                if (i < NSLOW) {
                    a->sent[i] = 0;
                    a->last_byte[i] = 0;
                }
            }
            /* slow ones: one byte of a request that never ends, every 2 s */
            if (i < NSLOW && a->fds[i] >= 0 && now - a->last_byte[i] >= 2000) {
                char c = slow_request[a->sent[i] % (sizeof slow_request - 1)];
                if (send(a->fds[i], &c, 1, MSG_NOSIGNAL) == 1)
                    a->sent[i]++;
                a->last_byte[i] = now;
            }
        }
        usleep(50 * 1000);
    }
    return NULL;
}

/* ---- the probe ----------------------------------------------------------- */

/* GET /health; returns the HTTP status (0 when none came) within 1 s. */
static int probe_health(int64_t *took_ms)
{
    int64_t start = now_ms();
    int fd = dial();
    int status = 0;
    if (fd >= 0) {
        static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
        char buf[512];
        size_t n = 0;
        while (n < sizeof buf - 1) {
            int left = (int)(1000 - (now_ms() - start));
            struct pollfd p = {fd, POLLIN, 0};
            if (left <= 0 || poll(&p, 1, left) <= 0)
                break;
            ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
            if (k <= 0)
                break;
            n += (size_t)k;
            buf[n] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        buf[n] = '\0';
        if (strncmp(buf, "HTTP/1.1 ", 9) == 0)
            status = atoi(buf + 9);
        close(fd);
    }
    *took_ms = now_ms() - start;
    return status;
}

static void health_answers_under_slow_and_idle_connections(void **st)
{
    (void)st;
    pipeline pl;
    memset(&pl, 0, sizeof pl);
    port = free_port();
    pl.metrics_port = port;
    assert_int_equal(http_metrics_start(&pl, "127.0.0.1"), 0);
    http_metrics_set_ready(1);
    int64_t took;
    assert_int_equal(probe_health(&took), 200);

    attack a;
    memset(&a, 0, sizeof a);
    for (int i = 0; i < NSLOW + NIDLE; i++)
        a.fds[i] = -1;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, attacker, &a), 0);
    usleep(300 * 1000); /* every attacking connection is open */
    int open = 0;
    for (int i = 0; i < NSLOW + NIDLE; i++)
        open += a.fds[i] >= 0;
    assert_int_equal(open, NSLOW + NIDLE);

    /* 5.5 s: longer than the 2 s drip and past where idle connections used
     * to hold their slot (10 s before the fix would only make it longer) */
    int probes = 0, worst = 0;
    for (int64_t end = now_ms() + 5500; now_ms() < end; probes++) {
        int status = probe_health(&took);
        if (status != 200 || took >= 1000) {
            a.stop = 1;
            pthread_join(t, NULL);
            fail_msg("probe %d: /health answered %d after %lld ms with %d slow and %d idle "
                     "connections open",
                     probes, status, (long long)took, NSLOW, NIDLE);
        }
        if (took > worst)
            worst = (int)took;
        usleep(250 * 1000);
    }
    a.stop = 1;
    pthread_join(t, NULL);
    print_message("%d probes, slowest %d ms, %d attacker (re)connections\n", probes, worst,
                  a.reconnects);
    for (int i = 0; i < NSLOW + NIDLE; i++)
        if (a.fds[i] >= 0)
            close(a.fds[i]);
    assert_true(probes >= 10);
    http_metrics_stop();
    metrics_free_all();
}

/* ---- rendering ---------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void render_families_histograms_and_watermarks(void **st)
{
    (void)st;
    metrics_get("a", "records_in_total", "records received", 0, NULL)->counter = 7;
    metrics_get("b", "records_in_total", "records received", 0, NULL)->counter = 9;
    metrics_get("a", "open_sessions", "sessions waiting\nfor the watermark", 1, NULL)->value = -3;
    metrics_get("a", "dead_letters_total", "dead letters", 0, "reason=\"bad_avro\"")->counter = 2;
    metrics_get("b", "dead_letters_total", "dead letters", 0, "reason=\"null_key\"")->counter = 1;
    metrics_get("a", "odd-name.total", "a plugin's odd name", 0, NULL)->counter = 1;
    metrics_get("a", "up", "a plugin's metric named like a derived one", 1, NULL)->value = 5;
    static const double bounds[] = {0.01, 0.1, 1};
    metric *h = metrics_histogram("s", "request_duration_seconds", "time to answer", bounds, 3, NULL);
    assert_non_null(h);
    assert_ptr_equal(metrics_histogram("s", "request_duration_seconds", "x", bounds, 3, NULL), h);
    static const double bad[] = {1, 0.5};
    assert_null(metrics_histogram("s", "bad_seconds", "x", bad, 2, NULL));
    assert_null(metrics_histogram("a", "open_sessions", "x", bounds, 3, NULL)); /* a gauge already */
    metrics_observe(h, 0.005);
    metrics_observe(h, 0.01); /* on a bound: that bucket (le is "less or equal") */
    metrics_observe(h, 0.5);
    metrics_observe(h, 7);
    assert_int_equal(h->counter, 4);

    pipeline pl;
    memset(&pl, 0, sizeof pl);
    instance src, none;
    memset(&src, 0, sizeof src);
    memset(&none, 0, sizeof none);
    src.name = "clicks";
    src.out_wm = 1700000000123;
    none.name = "idle";
    none.out_wm = INT64_MIN; /* no watermark yet: no sample */
    instance *insts[] = {&src, &none};
    pl.insts = insts;
    pl.ninsts = 2;

    sh_buf b = {0};
    http_metrics_render(&pl, &b);
    sh_buf_putc(&b, '\0');
    const char *t = b.data;
    print_message("%s", t);
    assert_int_equal(count_of(t, "# TYPE streamhost_records_in_total counter\n"), 1);
    assert_int_equal(count_of(t, "# HELP streamhost_records_in_total "), 1);
    assert_non_null(strstr(t, "streamhost_records_in_total{component=\"a\"} 7\n"));
    assert_non_null(strstr(t, "streamhost_records_in_total{component=\"b\"} 9\n"));
    assert_non_null(strstr(t, "# HELP streamhost_open_sessions sessions waiting\\nfor the watermark\n"));
    assert_non_null(strstr(t, "streamhost_open_sessions{component=\"a\"} -3\n"));
    assert_int_equal(count_of(t, "# TYPE streamhost_dead_letters_total counter\n"), 1);
    assert_non_null(strstr(t, "streamhost_dead_letters_total{component=\"a\",reason=\"bad_avro\"} 2\n"));
    assert_non_null(strstr(t, "streamhost_dead_letters_total{component=\"b\",reason=\"null_key\"} 1\n"));
    assert_non_null(strstr(t, "streamhost_odd_name_total{component=\"a\"} 1\n"));
    /* histogram: cumulative, +Inf = _count */
    assert_non_null(strstr(t, "# TYPE streamhost_request_duration_seconds histogram\n"));
    assert_non_null(strstr(t, "streamhost_request_duration_seconds_bucket{component=\"s\",le=\"0.01\"} 2\n"
                              "streamhost_request_duration_seconds_bucket{component=\"s\",le=\"0.1\"} 2\n"
                              "streamhost_request_duration_seconds_bucket{component=\"s\",le=\"1\"} 3\n"
                              "streamhost_request_duration_seconds_bucket{component=\"s\",le=\"+Inf\"} 4\n"
                              "streamhost_request_duration_seconds_sum{component=\"s\"} 7.515\n"
                              "streamhost_request_duration_seconds_count{component=\"s\"} 4\n"));
    /* one watermark family, in seconds; none for a component without one */
    assert_non_null(strstr(t, "# TYPE streamhost_watermark_seconds gauge\n"));
    assert_non_null(strstr(t, "streamhost_watermark_seconds{component=\"clicks\"} 1700000000.123\n"));
    assert_null(strstr(t, "component=\"idle\""));
    assert_null(strstr(t, "watermark_ms"));
    assert_non_null(strstr(t, "streamhost_watermark_lag_seconds{component=\"clicks\"} "));
    /* the plugin's "up" is left out: one family, the host's */
    assert_int_equal(count_of(t, "# TYPE streamhost_up gauge\n"), 1);
    assert_non_null(strstr(t, "streamhost_up{component=\"host\"} "));
    assert_null(strstr(t, "streamhost_up{component=\"a\"}"));
    sh_buf_free(&b);
    metrics_free_all();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render_families_histograms_and_watermarks),
        cmocka_unit_test(health_answers_under_slow_and_idle_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
