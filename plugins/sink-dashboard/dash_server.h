/* dash_server.h - the dashboard's HTTP server (libmicrohttpd, one internal
 * thread with epoll/poll, like the host's metrics server): the page and its
 * assets, embedded in the .so at build time, and /api/windows, the data.
 *
 * The server thread never calls host services (plugin.h allows them only
 * inside callbacks): it reads the data through `data_fn`, which takes the
 * plugin's lock. */
#ifndef DASH_SERVER_H
#define DASH_SERVER_H
#include "streamhost/record_json.h"

/* Renders the data JSON into `b` and sets *version, unless the data's
 * version is `known` (then it renders nothing and returns 0); returns 1 when
 * it rendered. */
typedef int (*dash_data_fn)(void *arg, uint64_t known, int have_known, sh_buf *b, uint64_t *version);

typedef struct dash_server dash_server;

/* Listens on address:port (port 0: any free port; *bound_port says which)
 * and serves.  On failure returns NULL with the reason in err (e.g. "Address
 * already in use"). */
dash_server *dash_server_start(const char *address, int port, dash_data_fn data_fn, void *arg, int *bound_port,
                               char *err, size_t errlen);
void dash_server_stop(dash_server *s);

/* The embedded file served for URL path `path` ("/" is /index.html): sets
 * its content type, bytes and length, returns 0; -1 when there is none. */
int dash_asset_find(const char *path, const char **type, const unsigned char **data, size_t *len);
/* Number of embedded files. */
size_t dash_asset_count(void);
#endif
