/* metrics.c - a small registry; lookups happen at registration, never per
 * record (plugins keep the pointer they got). */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static metric **all;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* registry vs the /metrics thread */

void metrics_lock(void) { pthread_mutex_lock(&lock); }
void metrics_unlock(void) { pthread_mutex_unlock(&lock); }
static size_t nall, capall;

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static metric *get_locked(const char *component, const char *name, const char *help, int gauge,
                          const char *label)
{
    for (size_t i = 0; i < nall; i++)
        if (same(all[i]->component, component) && strcmp(all[i]->name, name) == 0 &&
            same(all[i]->label, label))
            return all[i];
    if (nall == capall) {
        capall = capall ? capall * 2 : 64;
        all = realloc(all, capall * sizeof(metric *));
    }
    metric *m = calloc(1, sizeof *m);
    m->component = strdup(component ? component : "host");
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->label = label ? strdup(label) : NULL;
    m->gauge = gauge;
    all[nall++] = m;
    return m;
}

metric *metrics_get(const char *component, const char *name, const char *help,
                    int gauge, const char *label)
{
    pthread_mutex_lock(&lock);
    metric *m = get_locked(component, name, help, gauge, label);
    pthread_mutex_unlock(&lock);
    return m;
}

metric *metrics_histogram(const char *component, const char *name, const char *help, const double *bounds,
                          size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (!(bounds[i] > -HUGE_VAL && bounds[i] < HUGE_VAL) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            return NULL;
    pthread_mutex_lock(&lock);
    size_t before = nall;
    metric *m = get_locked(component, name, help, 0, label);
    if (!m->histogram && nall == before) {
        m = NULL; /* a counter or gauge of that name */
    } else if (!m->histogram) {
        double *b = malloc((n ? n : 1) * sizeof *b);
        uint64_t *c = calloc(n + 1, sizeof *c);
        if (!b || !c) {
            free(b);
            free(c);
            m = NULL;
        } else {
            if (n)
                memcpy(b, bounds, n * sizeof *b);
            m->bounds = b;
            m->buckets = c;
            m->nbounds = n;
            m->histogram = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return m;
}

void metrics_observe(metric *h, double v)
{
    if (!h || !h->histogram || v != v)
        return;
    size_t i = 0; /* few bounds: a linear scan beats a search */
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    __atomic_fetch_add(&h->buckets[i], 1, __ATOMIC_RELAXED);
    double sum;
    __atomic_load(&h->sum, &sum, __ATOMIC_RELAXED);
    sum += v;
    __atomic_store(&h->sum, &sum, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->counter, 1, __ATOMIC_RELEASE);
}

size_t metrics_count(void) { return nall; }
metric *metrics_at(size_t i) { return i < nall ? all[i] : NULL; }

uint64_t metrics_sum(const char *component, const char *name)
{
    uint64_t s = 0;
    for (size_t i = 0; i < nall; i++)
        if ((!component || strcmp(all[i]->component, component) == 0) &&
            strcmp(all[i]->name, name) == 0)
            s += all[i]->counter;
    return s;
}

int64_t metrics_gauge_sum(const char *component, const char *name)
{
    int64_t s = 0;
    for (size_t i = 0; i < nall; i++)
        if ((!component || strcmp(all[i]->component, component) == 0) &&
            strcmp(all[i]->name, name) == 0)
            s += all[i]->value;
    return s;
}

void metrics_free_component(const char *component)
{
    pthread_mutex_lock(&lock);
    size_t keep = 0;
    for (size_t i = 0; i < nall; i++) {
        metric *m = all[i];
        if (strcmp(m->component, component) != 0) {
            all[keep++] = m;
            continue;
        }
        free(m->component);
        free(m->name);
        free(m->help);
        free(m->label);
        free(m->bounds);
        free(m->buckets);
        free(m);
    }
    nall = keep;
    pthread_mutex_unlock(&lock);
}

void metrics_free_all(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nall; i++) {
        free(all[i]->component);
        free(all[i]->name);
        free(all[i]->help);
        free(all[i]->label);
        free(all[i]->bounds);
        free(all[i]->buckets);
        free(all[i]);
    }
    free(all);
    all = NULL;
    nall = capall = 0;
    pthread_mutex_unlock(&lock);
}
