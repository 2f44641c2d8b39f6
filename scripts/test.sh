#!/usr/bin/env bash
# Runs every test from a clean checkout: fetches the models (idempotent), restores, builds in
# Release, checks formatting, runs the test projects and a bounded fuzz run of each fuzz target.
# Needs the .NET 10 SDK and npm on PATH, and ../shared (face images) beside the repository; the
# fuzz run installs afl++ and the cluster test redis-server with apt when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# A full disk fails the build with a flood of copy retries: say up front how much room there is.
df -h . | tail -1 | awk '{print "disk: " $4 " free of " $2 " on " $6}'
bash scripts/fetch-models.sh
# The multi-process cluster test (tests/FaceIndex.Cluster.Tests) runs Debian's redis-server: installed
# with apt when missing (as root), as the fuzz run installs afl++.
if ! command -v redis-server > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server > /dev/null
fi
# The console's browser tests drive Debian's chromium (tests/FaceIndex.ConsoleTests; Playwright's own
# browser download is never used). CI runs as root: install it when missing.
if ! command -v chromium >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
fi
dotnet restore FaceIndex.sln
dotnet build FaceIndex.sln -c Release --no-restore
dotnet format FaceIndex.sln --verify-no-changes --no-restore
# The NuGet packages of the client and of the libraries an application embeds.
for project in Client Core Vision Index Storage Clustering Engine Protocol; do
  dotnet pack "src/FaceIndex.$project" -c Release --no-build -o artifacts/packages
done

# One project at a time keeps peak memory and CPU contention predictable on small machines.
# Each step's output is also kept under artifacts/test-logs; a failed step is named again, with its
# failed tests and their first message lines, in the summary at the very end (a CI log is often
# read from its tail only).
logs=artifacts/test-logs
rm -rf "$logs"
mkdir -p "$logs"
failed=()
step() { # step NAME COMMAND...: runs the command, tees its output to $logs/NAME.log, records a failure
  local name=$1
  shift
  echo "=== $name"
  local started=$SECONDS
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    echo "--- $name: passed in $((SECONDS - started)) s"
  else
    echo "--- $name: FAILED in $((SECONDS - started)) s"
    failed+=("$name")
  fi
}

for project in tests/*/*.csproj; do
  # FaceIndex.Testing is the shared synthetic-data library, not a test project.
  [[ $project == */FaceIndex.Testing.csproj ]] && continue
  step "$(basename "$project" .csproj)" dotnet test "$project" -c Release --no-build --logger "console;verbosity=normal"
done
# The SIMD kernels once more with hardware intrinsics off, so that every tier (down to the scalar
# fallback that is also the test reference) is exercised.
step FaceIndex.Core.Tests.NoIntrinsics env DOTNET_EnableHWIntrinsic=0 dotnet test tests/FaceIndex.Core.Tests -c Release --no-build --logger "console;verbosity=normal"
# Bounded coverage-guided fuzzing of both targets (AFL++ and SharpFuzz; docs/fuzzing.md): a saved
# crash fails the run. FACEINDEX_FUZZ_SECONDS sets the time per target.
for target in image request; do
  step "fuzz-$target" bash scripts/fuzz.sh "$target" "${FACEINDEX_FUZZ_SECONDS:-60}"
done

echo "=== summary"
if [ ${#failed[@]} -eq 0 ]; then
  echo "every step passed"
  exit 0
fi
for name in "${failed[@]}"; do
  echo "FAILED: $name (full output: $logs/$name.log)"
  # xunit's console logger: "  Failed Test.Name [time]", then "  Error Message:" and its lines.
  grep -A4 -E '^\s+Failed [A-Za-z_]|Error Message:|Test Run Aborted|crash|afl-fuzz failed' "$logs/$name.log" | head -60 || true
done
exit 1
