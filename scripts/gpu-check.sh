#!/usr/bin/env bash
# The GPU check of the vision pipeline (issue 14), for a machine with an NVIDIA GPU (CUDA 13, cuDNN 9).
# Builds the benchmarks and the CLI, says whether ONNX Runtime's CUDA provider loads (and if not, which
# library is missing), then measures on the CPU and, when CUDA loads, on CUDA:
#   - end-to-end images/s through the pipeline and bare inference of the three models (small, camera, many faces),
#   - the embedding model alone at batch 1/8/32/128,
#   - the largest difference between CPU and CUDA embeddings on the deepface and celeba-dev images,
#   - verification accuracy (int8 code, LFW protocol) on deepface and celeba-dev, CPU against CUDA.
# Prints ONE table at the end (measurement | CPU | CUDA). Without CUDA, the CUDA column says why.
#
#   FACEINDEX_FACES=DIR bash scripts/gpu-check.sh    # DIR holds deepface/ (and celeba-dev/, lfw-disjoint/)
#
# Environment: FACEINDEX_FACES (default ../shared/faces), FACEINDEX_MODELS (default models/; fetched when
# missing, which needs npm), GPU_CHECK_SECONDS (per throughput measurement, default 4),
# GPU_CHECK_CELEBA (max celeba-dev pairs lines: the file is cut to this many for time, default all).
# Budget: under 8 minutes on a 16-core GPU machine (CPU figures are the slow part).
set -uo pipefail
cd "$(dirname "$0")/.."

faces=${FACEINDEX_FACES:-../shared/faces}
seconds=${GPU_CHECK_SECONDS:-4}
export FACEINDEX_FACES=$(cd "$faces" 2>/dev/null && pwd) || { echo "gpu-check: no faces folder at $faces (set FACEINDEX_FACES)" >&2; exit 2; }
[[ -d $FACEINDEX_FACES/deepface ]] || { echo "gpu-check: $FACEINDEX_FACES has no deepface/ folder" >&2; exit 2; }
started=$SECONDS
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.tsv
: >"$results"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

# CUDA libraries that Python wheels (nvidia-cublas, nvidia-cudnn-cu13, …) bring, where the machine has them.
if command -v python3 >/dev/null; then
  extra=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site
dirs = set()
for base in site.getsitepackages():
    for lib in glob.glob(os.path.join(base, "nvidia", "*", "lib")) + glob.glob(os.path.join(base, "nvidia", "cu13", "lib")):
        dirs.add(lib)
print(":".join(sorted(dirs)))
EOF
)
  [[ -n $extra ]] && export LD_LIBRARY_PATH=${extra}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi

echo "gpu-check: building (Release)…"
bash scripts/fetch-models.sh >/dev/null || { echo "gpu-check: the models are missing and could not be fetched" >&2; exit 2; }
build_log=$work/build.log
if ! { dotnet build bench/FaceIndex.Benchmarks -c Release -v q && dotnet build src/FaceIndex.Cli -c Release -v q; } >"$build_log" 2>&1; then
  tail -20 "$build_log" >&2
  echo "gpu-check: the build failed" >&2
  exit 2
fi
bench() { dotnet bench/FaceIndex.Benchmarks/bin/Release/net10.0/FaceIndex.Benchmarks.dll vision "$@"; }
faceindex() { dotnet src/FaceIndex.Cli/bin/Release/net10.0/faceindex.dll "$@"; }

provider_line=$(bench provider 2>&1 | grep -m1 '^provider' | cut -f2)
if bench provider >/dev/null 2>&1; then cuda=1; else cuda=0; fi
echo "gpu-check: $provider_line"
row "providers (Vision:Provider=Auto)" "—" "$provider_line"
reason=${provider_line#*(}
nocuda="not run: ${reason%)}"
if [[ $cuda == 1 ]] && command -v nvidia-smi >/dev/null; then
  row "GPU" "—" "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
fi

# Throughput: CPU, then CUDA, same sets and batch sizes.
declare -A cpu_rows cuda_rows
order=()
collect() { # $1 = provider; fills the arrays from the bench's TSV
  local name value
  while IFS=$'\t' read -r name value; do
    [[ -z $value ]] && continue
    [[ " ${order[*]} " == *" $name "* ]] || order+=("$name")
    if [[ $1 == Cpu ]]; then cpu_rows[$name]=$value; else cuda_rows[$name]=$value; fi
  done
}
echo "gpu-check: throughput on the CPU…"
collect Cpu < <(bench throughput --provider Cpu --tsv --seconds "$seconds" --batches 1,8,32,128 2>/dev/null)
if [[ $cuda == 1 ]]; then
  echo "gpu-check: throughput on CUDA…"
  collect Cuda < <(bench throughput --provider Cuda --tsv --seconds "$seconds" --batches 1,8,32,128 2>/dev/null)
fi
for name in "${order[@]}"; do
  row "$name" "${cpu_rows[$name]:-}" "${cuda_rows[$name]:-—}"
done

# CPU against CUDA: embeddings and accuracy.
eval_accuracy() { # $1 pairs file, $2 provider, rest: extra arguments
  local pairs=$1 provider=$2
  shift 2
  faceindex eval "$pairs" --code int8 --json --provider "$provider" "$@" 2>/dev/null |
    grep -m1 -o '"meanAccuracy": [0-9.]*' | awk '{printf "%.2f %%", $2 * 100}'
}
for set in deepface celeba-dev; do
  dir=$FACEINDEX_FACES/$set
  [[ -d $dir ]] || { row "$set" "absent" "absent"; continue; }
  if [[ $set == deepface ]]; then pairs=$dir/master.csv; images=(); else pairs=$dir/pairs.txt; images=(--images "$dir"); fi
  if [[ -n ${GPU_CHECK_CELEBA:-} && $set == celeba-dev ]]; then
    head -n "$GPU_CHECK_CELEBA" "$pairs" >"$work/pairs.txt"
    pairs=$work/pairs.txt
  fi
  echo "gpu-check: accuracy on $set…"
  cpu_acc=$(eval_accuracy "$pairs" Cpu "${images[@]}")
  if [[ $cuda == 1 ]]; then
    cuda_acc=$(eval_accuracy "$pairs" Cuda "${images[@]}")
    diff=$(bench compare "$dir" 2>/dev/null | tail -1)
    row "${diff%%$'\t'*}" "—" "${diff#*$'\t'}"
  else
    cuda_acc=$nocuda
  fi
  row "verification accuracy, int8 code, $set ($(basename "$pairs"))" "$cpu_acc" "$cuda_acc"
done
row "gpu-check time" "—" "$((SECONDS - started)) s"

echo
echo "| measurement | CPU | CUDA |"
echo "|---|---|---|"
while IFS=$'\t' read -r name a b; do
  echo "| $name | $a | $b |"
done <"$results"
