#!/usr/bin/env bash
# Runs the server on its embedded defaults (config/appsettings.json): gRPC on 127.0.0.1:50051,
# metrics on 127.0.0.1:9090, data under ./data, models under ./models. Fetches the models first
# (idempotent) and builds in Release. Extra arguments go to `faceindex serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-models.sh
dotnet build src/FaceIndex.Cli -c Release
exec dotnet src/FaceIndex.Cli/bin/Release/net10.0/faceindex.dll serve "$@"
