/* loader.h - finds plugins by name on the search path (or by file path),
 * dlopen()s them and checks their ABI block.  Built-in plugins (the Kafka
 * source and sink) are found here too, without a file. */
#ifndef SH_LOADER_H
#define SH_LOADER_H
#include "streamhost/plugin.h"
#include <stddef.h>

typedef struct loaded_plugin {
    const sh_plugin *p; /* full-size descriptor (a zero-padded copy for .so plugins) */
    sh_plugin *own;     /* that copy, freed by loader_unload; NULL for built-ins */
    void *dl;   /* dlopen handle, NULL for built-ins */
    char *path; /* file, or "(built-in)" */
} loaded_plugin;

/* Directories searched for plugins, in order: each entry of `config_path`
 * (a comma/colon list from [streamhost] plugin.path, relative to the config
 * file's directory `config_dir`), $STREAMHOST_PLUGIN_PATH (colon list), the
 * build dir next to the binary (<exe dir>/plugins), and the install dir
 * (<exe dir>/../lib/streamhost/plugins).  Returns a NULL-terminated array;
 * free with loader_free_dirs. */
char **loader_search_dirs(const char *config_path, const char *config_dir);
void loader_free_dirs(char **dirs);

/* Loads plugin `name` of `kind` (0 = any).  `name` with a '/' or ending in
 * ".so" is a file path; otherwise "<kind>-<name>.so" then "<name>.so" are
 * tried in each dir, after the built-ins.  Returns 0, or -1 with one line in
 * err naming the file and the fix. */
int loader_load(const char *name, int kind, char **dirs, loaded_plugin *out,
                char *err, size_t errlen);
void loader_unload(loaded_plugin *lp);

/* Checks a descriptor's ABI block; 0 or -1 with a message about `path`. */
int loader_check(const sh_plugin *p, const char *path, char *err, size_t errlen);

/* Every loadable plugin: the built-ins, then each .so in dirs (first one of
 * a name wins).  Files that fail to load are reported through `bad`. */
void loader_each(char **dirs, void (*fn)(void *arg, const loaded_plugin *lp),
                 void (*bad)(void *arg, const char *msg), void *arg);

const char *kind_name(int kind);

/* Descriptors registered at run time (the test kit: the plugin under test,
 * compiled into the test, and the kit's feed and capture plugins): found by
 * name and kind like the built-ins, before them, after loader_check.  0, or
 * -1 when the registry is full (32). */
int loader_register(const sh_plugin *p);
void loader_unregister(const sh_plugin *p);

/* Built-in plugin registry (defined in builtins.c). */
extern const sh_plugin *const sh_builtins[];
#endif
