/* pipeline_build.h - from a parsed config to a wired, validated DAG
 * (pipeline_build.c). */
#ifndef SH_PIPELINE_BUILD_H
#define SH_PIPELINE_BUILD_H
#include "instance.h"

/* Builds the pipeline from a parsed config: loads plugins, validates every
 * section against its schema, wires inputs and orders the DAG.  Problems are
 * appended to cfg->errors; returns NULL when there are any. */
pipeline *pipeline_build(sh_config *cfg, const char *config_path);
/* The same; validate = 0 leaves out the plugins' validate() callbacks (the
 * test kit: its th_new checks what the host checks, and a test calls
 * validate() or init() itself to see the plugin's own refusals). */
pipeline *pipeline_build_with(sh_config *cfg, const char *config_path, int validate);
#endif
