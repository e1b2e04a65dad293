/* testhost.h - the plugin unit tests' harness: the test kit the project
 * installs for plugin authors (include/streamhost/testkit.h), which runs a
 * plugin in the real host. */
#include "streamhost/testkit.h"
