#!/usr/bin/env bash
# scripts/opensearch-secure.sh - the secured OpenSearch node (security plugin,
# HTTPS, internal users): scripts/opensearch.sh in its secured mode, with its
# own ports (9250/9350), distribution copy and run dir, beside the plain node.
#   scripts/opensearch-secure.sh start|stop|restart|status|logs|url|env|fetch
# tests/run-integration.sh starts it for tests that declare
# "# needs: opensearch-secure".  See scripts/opensearch.sh for the details.
export OPENSEARCH_SECURITY=1
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/opensearch.sh" "$@"
