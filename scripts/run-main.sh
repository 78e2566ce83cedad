#!/usr/bin/env bash
# The main job: build and start spotopt-server on the SQLite default. On the first
# run it creates a tenant and an operator token and prints both once.
#   SPOTOPT_DB (default build/spotopt.db), SPOTOPT_LISTEN (default 127.0.0.1:5000),
#   SPOTOPT_ADVISOR_FEED (AWS's spot-advisor-data.json, for interruption bands)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" --target spotopt-server
server=./build/default/examples/server/spotopt-server
db=${SPOTOPT_DB:-build/spotopt.db}
listen=${SPOTOPT_LISTEN:-127.0.0.1:5000}

if [ ! -f "$db" ]; then
  agent_token=$("$server" tenant create default --db "$db")
  operator_token=$("$server" operator-token --db "$db")
  cat <<MSG
New database $db. Shown once, keep them:
  agent token (give it to your agents): $agent_token
  operator token (management API):      $operator_token
MSG
else
  echo "Existing database $db (new tenant: $server tenant create NAME --db $db)"
fi
echo "spotopt-server listening on http://$listen/, dashboard at http://$listen/ui (Ctrl-C stops it)"
exec "$server" --db "$db" --listen "$listen" ${SPOTOPT_ADVISOR_FEED:+--advisor-feed "$SPOTOPT_ADVISOR_FEED"}
