/* builtins.c - plugins compiled into the host (they need its Kafka client
 * and offset commits), listed with the .so plugins by `streamhost plugins`. */
#include "instance.h"

extern const sh_plugin sh_builtin_kafka_source, sh_builtin_kafka_sink;
extern const struct builtin_ext sh_builtin_kafka_source_ext;

const sh_plugin *const sh_builtins[] = {&sh_builtin_kafka_source, &sh_builtin_kafka_sink, NULL};
const struct builtin_ext *const sh_builtin_exts[] = {&sh_builtin_kafka_source_ext, NULL};
