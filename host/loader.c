/* loader.c - plugin discovery, dlopen and the ABI check (PG_MODULE_MAGIC). */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kind_name(int kind)
{
    switch (kind) {
    case SH_SOURCE: return "source";
    case SH_TRANSFORM: return "transform";
    case SH_SINK: return "sink";
    default: return "?";
    }
}

static void push(char ***arr, size_t *n, const char *s)
{
    *arr = realloc(*arr, (*n + 2) * sizeof(char *));
    (*arr)[(*n)++] = strdup(s);
    (*arr)[*n] = NULL;
}

static void push_list(char ***arr, size_t *n, const char *list, const char *base)
{
    char *copy = strdup(list);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",:", &save); tok; tok = strtok_r(NULL, ",:", &save)) {
        while (*tok == ' ')
            tok++;
        char *e = tok + strlen(tok);
        while (e > tok && e[-1] == ' ')
            *--e = '\0';
        if (!*tok)
            continue;
        if (base && tok[0] != '/') {
            char buf[PATH_MAX];
            snprintf(buf, sizeof buf, "%s/%s", base, tok);
            push(arr, n, buf);
        } else {
            push(arr, n, tok);
        }
    }
    free(copy);
}

char **loader_search_dirs(const char *config_path, const char *config_dir)
{
    char **dirs = calloc(1, sizeof(char *));
    size_t n = 0;
    if (config_path && *config_path)
        push_list(&dirs, &n, config_path, config_dir);
    const char *env = getenv("STREAMHOST_PLUGIN_PATH");
    if (env && *env)
        push_list(&dirs, &n, env, NULL);
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *dir = dirname(exe);
        char buf[PATH_MAX + 64];
        snprintf(buf, sizeof buf, "%s/plugins", dir);
        push(&dirs, &n, buf);
        snprintf(buf, sizeof buf, "%s/../lib/streamhost/plugins", dir);
        push(&dirs, &n, buf);
    }
    return dirs;
}

void loader_free_dirs(char **dirs)
{
    for (size_t i = 0; dirs && dirs[i]; i++)
        free(dirs[i]);
    free(dirs);
}

int loader_check(const sh_plugin *p, const char *path, char *err, size_t errlen)
{
    if (!p) {
        snprintf(err, errlen, "%s: streamhost_plugin_entry returned NULL; return the plugin's descriptor", path);
        return -1;
    }
    if (p->abi_version != SH_ABI_VERSION) {
        snprintf(err, errlen,
                 "%s: plugin built for streamhost ABI %u, this host speaks ABI %u; rebuild it against this host's streamhost/plugin.h",
                 path, p->abi_version, SH_ABI_VERSION);
        return -1;
    }
    /* Descriptors only grow (plugin.h, "Compatibility rule"): any size from
     * the ABI 1.0 one up is fine; records and values travel in arrays and
     * must match exactly. */
    if (p->size < SH_PLUGIN_SIZE_1_0 || p->record_size != sizeof(sh_record) ||
        p->value_size != sizeof(sh_value)) {
        snprintf(err, errlen,
                 "%s: plugin struct sizes (descriptor %u, record %u, value %u) do not fit this host (descriptor >= %zu, record %zu, value %zu); rebuild it with SH_PLUGIN_MAGIC against this host's header",
                 path, p->size, p->record_size, p->value_size, (size_t)SH_PLUGIN_SIZE_1_0,
                 sizeof(sh_record), sizeof(sh_value));
        return -1;
    }
    if (!p->name || !*p->name || !p->init || p->kind < SH_SOURCE || p->kind > SH_SINK) {
        snprintf(err, errlen, "%s: plugin descriptor lacks a name, a kind or an init callback", path);
        return -1;
    }
    if ((p->kind == SH_SOURCE && !p->poll) || (p->kind != SH_SOURCE && !p->process)) {
        snprintf(err, errlen, "%s: %s plugin '%s' lacks its %s callback", path,
                 kind_name((int)p->kind), p->name, p->kind == SH_SOURCE ? "poll" : "process");
        return -1;
    }
    return 0;
}

static int open_file(const char *path, loaded_plugin *out, char *err, size_t errlen)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        snprintf(err, errlen, "%s: cannot load plugin: %s", path, dlerror());
        return -1;
    }
    void *sym = dlsym(dl, SH_ENTRY_SYMBOL);
    if (!sym) {
        snprintf(err, errlen,
                 "%s: not a streamhost plugin (no '%s' symbol; export one with SH_PLUGIN_EXPORT)",
                 path, SH_ENTRY_SYMBOL);
        dlclose(dl);
        return -1;
    }
    sh_entry_fn fn;
    memcpy(&fn, &sym, sizeof fn);
    const sh_plugin *p = fn(SH_ABI_VERSION);
    if (loader_check(p, path, err, errlen) != 0) {
        dlclose(dl);
        return -1;
    }
    /* The host reads the descriptor through a zeroed full-size copy, so a
     * member added after the plugin was built reads as NULL; the copy keeps
     * the plugin's own size for SH_PLUGIN_HAS. */
    sh_plugin *copy = calloc(1, sizeof *copy);
    if (!copy) {
        snprintf(err, errlen, "%s: out of memory", path);
        dlclose(dl);
        return -1;
    }
    memcpy(copy, p, p->size < sizeof *copy ? p->size : sizeof *copy);
    out->p = copy;
    out->own = copy;
    out->dl = dl;
    out->path = strdup(path);
    return 0;
}

#define LOADER_MAX_REGISTERED 32
static const sh_plugin *registered[LOADER_MAX_REGISTERED];

int loader_register(const sh_plugin *p)
{
    for (size_t i = 0; i < LOADER_MAX_REGISTERED; i++)
        if (!registered[i] || registered[i] == p) {
            registered[i] = p;
            return 0;
        }
    return -1;
}

void loader_unregister(const sh_plugin *p)
{
    for (size_t i = 0; i < LOADER_MAX_REGISTERED; i++)
        if (registered[i] == p)
            registered[i] = NULL;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int loader_load(const char *name, int kind, char **dirs, loaded_plugin *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t nl = strlen(name);
    if (strchr(name, '/') || (nl > 3 && strcmp(name + nl - 3, ".so") == 0)) {
        if (!exists(name)) {
            snprintf(err, errlen, "%s: plugin file not found (check the path)", name);
            return -1;
        }
        if (open_file(name, out, err, errlen) != 0)
            return -1;
    } else {
        for (size_t i = 0; i < LOADER_MAX_REGISTERED; i++) {
            const sh_plugin *b = registered[i];
            if (b && strcmp(b->name, name) == 0 && (kind == 0 || (int)b->kind == kind)) {
                if (loader_check(b, name, err, errlen) != 0)
                    return -1;
                out->p = b;
                out->path = strdup("(registered)");
                return 0;
            }
        }
        for (size_t i = 0; sh_builtins[i]; i++) {
            const sh_plugin *b = sh_builtins[i];
            if (strcmp(b->name, name) == 0 && (kind == 0 || (int)b->kind == kind)) {
                out->p = b;
                out->path = strdup("(built-in)");
                return 0;
            }
        }
        char path[PATH_MAX];
        int found = 0;
        for (size_t i = 0; dirs && dirs[i] && !found; i++) {
            for (int form = 0; form < 2 && !found; form++) {
                if (form == 0 && kind == 0)
                    continue;
                if (form == 0)
                    snprintf(path, sizeof path, "%s/%s-%s.so", dirs[i], kind_name(kind), name);
                else
                    snprintf(path, sizeof path, "%s/%s.so", dirs[i], name);
                found = exists(path);
            }
        }
        if (!found) {
            char searched[2048] = "";
            size_t o = 0;
            for (size_t i = 0; dirs && dirs[i] && o < sizeof searched - 1; i++)
                o += (size_t)snprintf(searched + o, sizeof searched - o, "%s%s", i ? ", " : "", dirs[i]);
            snprintf(err, errlen,
                     "plugin '%s' not found (looked for %s%s%s.so in: %s); set plugin.path in [streamhost] or STREAMHOST_PLUGIN_PATH, or give a file path",
                     name, kind ? kind_name(kind) : "", kind ? "-" : "", name, searched);
            return -1;
        }
        if (open_file(path, out, err, errlen) != 0)
            return -1;
    }
    if (kind && (int)out->p->kind != kind) {
        snprintf(err, errlen, "%s: plugin '%s' is a %s, not a %s", out->path, out->p->name,
                 kind_name((int)out->p->kind), kind_name(kind));
        loader_unload(out);
        return -1;
    }
    return 0;
}

void loader_unload(loaded_plugin *lp)
{
    /* Plugins are not dlclose()d: a plugin's library threads or atexit
     * handlers may outlive destroy(), and valgrind/ASan need the symbols to
     * report leaks inside plugins. */
    free(lp->path);
    free(lp->own);
    memset(lp, 0, sizeof *lp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void loader_each(char **dirs, void (*fn)(void *arg, const loaded_plugin *lp),
                 void (*bad)(void *arg, const char *msg), void *arg)
{
    char **seen = NULL;
    size_t nseen = 0;
    for (size_t i = 0; sh_builtins[i]; i++) {
        loaded_plugin lp = {.p = sh_builtins[i], .path = "(built-in)"};
        fn(arg, &lp);
    }
    for (size_t d = 0; dirs && dirs[d]; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir)
            continue;
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(dir))) {
            size_t l = strlen(de->d_name);
            if (l > 3 && strcmp(de->d_name + l - 3, ".so") == 0)
                push(&names, &n, de->d_name);
        }
        closedir(dir);
        if (n)
            qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
            int dup = 0;
            for (size_t s = 0; s < nseen; s++)
                if (strcmp(seen[s], names[i]) == 0)
                    dup = 1;
            if (!dup) {
                char path[PATH_MAX];
                char err[1024];
                loaded_plugin lp;
                snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
                memset(&lp, 0, sizeof lp);
                if (open_file(path, &lp, err, sizeof err) == 0) {
                    fn(arg, &lp);
                    loader_unload(&lp);
                } else if (bad) {
                    bad(arg, err);
                }
                push(&seen, &nseen, names[i]);
            }
            free(names[i]);
        }
        free(names);
    }
    for (size_t s = 0; s < nseen; s++)
        free(seen[s]);
    free(seen);
}
