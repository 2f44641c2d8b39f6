#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with AFL++ and SharpFuzz, for a bounded time:
#   bash scripts/fuzz.sh image|request SECONDS
# Installs what it lacks (afl++ from apt, the SharpFuzz.CommandLine dotnet tool), publishes
# fuzz/FaceIndex.Fuzz, instruments the target's assemblies, writes the seed corpus (from
# ../shared/faces and valid requests) and runs afl-fuzz. Prints executions, exec/s, corpus and
# crashes; exits 1 when afl-fuzz saved a crash (each is replayed to show its exception and kept
# under artifacts/fuzz/TARGET/findings/default/crashes). Needs the models (scripts/fetch-models.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz.sh image|request SECONDS}
seconds=${2:?usage: fuzz.sh image|request SECONDS}
case "$target" in
  image) instrument=(FaceIndex.Vision.dll FaceIndex.Core.dll) ;;
  request) instrument=(FaceIndex.Server.dll Google.Protobuf.dll FaceIndex.Core.dll) ;;
  *) echo "unknown target '$target' (image or request)" >&2; exit 2 ;;
esac

if ! command -v afl-fuzz > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ > /dev/null
fi
tools=artifacts/fuzz/tools
if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" > /dev/null
fi

work=artifacts/fuzz/$target
base=artifacts/fuzz/base
# One plain publish; each target instruments its own copy (instrumentation rewrites the assemblies).
if [ ! -f "$base/FaceIndex.Fuzz.dll" ] || [ -n "$(find src fuzz tests/FaceIndex.IntegrationTests/HostileImages.cs -newer "$base/FaceIndex.Fuzz.dll" -name '*.cs' -print -quit)" ]; then
  dotnet publish fuzz/FaceIndex.Fuzz -c Release -o "$base" --nologo -v quiet
fi
rm -rf "$work"
mkdir -p "$work"
cp -r "$base" "$work/bin"
for assembly in "${instrument[@]}"; do
  "$tools/sharpfuzz" "$work/bin/$assembly" > /dev/null
done
dotnet "$base/FaceIndex.Fuzz.dll" "$target" seeds "$work/seeds"

# Not a terminal, a shared machine: no UI, no CPU binding, no core_pattern or governor checks. The
# .NET runtime is not an AFL-compiled binary, and startup (models, server) takes seconds.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_FORKSRV_INIT_TMOUT=120000 AFL_MAP_SIZE=65536
export DOTNET_TieredPGO=0 FACEINDEX_FUZZ_CRASH_LOG=$PWD/$work/crashes.log FACEINDEX_FUZZ_DATA=$PWD/$work/data
afl-fuzz -i "$work/seeds" -o "$work/findings" -t 10000 -m none -V "$seconds" -- dotnet "$work/bin/FaceIndex.Fuzz.dll" "$target" > "$work/afl.log" 2>&1 || {
  tail -40 "$work/afl.log" >&2
  echo "afl-fuzz failed" >&2
  exit 1
}

stats=$work/findings/default/fuzzer_stats
stat() { awk -v k="$1" '$1 == k { print $3 }' "$stats"; }
crashes=$(stat saved_crashes)
echo "fuzz $target: $(stat execs_done) executions in $(stat run_time) s ($(stat execs_per_sec) exec/s), corpus $(stat corpus_count) (from $(ls "$work/seeds" | wc -l) seeds), crashes $crashes, hangs $(stat saved_hangs), stability $(stat stability)"
if [ "${crashes:-0}" != 0 ]; then
  # A crash may depend on what ran before it in the same process: the log has its exception.
  cat "$work/crashes.log" >&2 || true
  dotnet "$base/FaceIndex.Fuzz.dll" "$target" replay "$work/findings/default/crashes" || true
  exit 1
fi
