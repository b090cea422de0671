#!/usr/bin/env bash
# Runs every test of Lightfast Cloud on a fresh machine: installs the npm packages the tests start (MCP servers,
# Azurite; pinned by the package-lock.json files under tools/), then builds the CI solution filter and runs `dotnet test` on each test project.
# Extra arguments go to `dotnet test` (for example: --filter "FullyQualifiedName~Registry").
# TEST_RESULTS_DIR, when set, receives one TRX file per test project.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The npm packages the tests start: the MCP servers (tools/mcp-servers) and Azurite with its Node 22 (tools/azurite).
for tool in tools/mcp-servers tools/azurite; do
  if [ ! -f "$tool/node_modules/.package-lock.json" ] || [ "$tool/package-lock.json" -nt "$tool/node_modules/.package-lock.json" ]; then
    echo "Installing the npm packages the tests use ($tool)..."
    npm ci --prefix "$tool" --no-audit --no-fund --loglevel=error
  fi
done

results="${TEST_RESULTS_DIR:-$root/TestResults}"
mkdir -p "$results"
dotnet build Lightfast.Cloud.Ci.slnf --nologo -v quiet

# Every process the tests start inherits this marker; check-leftovers.sh finds any still alive at the end.
export LIGHTFAST_TEST_RUN="${LIGHTFAST_TEST_RUN:-$(cat /proc/sys/kernel/random/uuid)}"

# One `dotnet test` per test project, each writing its own TRX file; every project runs even if one fails.
status=0
for project in tests/*/*.csproj; do
  grep -q '<IsTestProject>true</IsTestProject>' "$project" || continue
  name="$(basename "$project" .csproj)"
  dotnet test "$project" --no-build --nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" "$@" || status=$?
done

# Then: no child process of the tests may be left alive (reported as one more test result).
bash scripts/check-leftovers.sh "$LIGHTFAST_TEST_RUN" "$results" || status=$?
exit "$status"
