#!/usr/bin/env bash
# Fetches the face models pinned in model-bundle/manifest.json into models/ (or $FACEINDEX_MODELS).
# Idempotent: when every model file is already present with its pinned SHA-256, nothing touches the
# network. Otherwise `npm pack` downloads the package tarball into .cache/npm/, its SHA-256 is checked
# against the manifest, and the three ONNX files are extracted and checked one by one.
# The same logic is reachable as `faceindex models fetch`.
set -euo pipefail
cd "$(dirname "$0")/.."

manifest=model-bundle/manifest.json
models_dir=${FACEINDEX_MODELS:-models}
cache_dir=.cache/npm

# One "key value" line per manifest field the script needs (node ships with npm, which we need anyway).
read_manifest() {
  node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log("package " + m.package.name);
    console.log("version " + m.package.version);
    console.log("tarball " + m.package.tarballSha256);
    console.log("prefix " + m.package.modelPathInTarball);
    for (const k of Object.keys(m.models)) console.log("model " + m.models[k].file + " " + m.models[k].sha256);
  ' "$manifest"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

package="" version="" tarball_sha="" prefix=""
models=()
while read -r key a b; do
  case "$key" in
    package) package=$a ;;
    version) version=$a ;;
    tarball) tarball_sha=$a ;;
    prefix) prefix=$a ;;
    model) models+=("$a:$b") ;;
  esac
done < <(read_manifest)

all_present=1
for entry in "${models[@]}"; do
  file=${entry%%:*} sha=${entry##*:}
  if [[ ! -f "$models_dir/$file" || "$(sha256_of "$models_dir/$file")" != "$sha" ]]; then
    all_present=0
  fi
done
# The dlib ResNet is converted from its pinned TensorFlow.js weights (@vladmandic/face-api) by our own
# converter, which is C#: `faceindex models fetch` does it, only when models/dlib128.onnx is missing or
# does not match the SHA-256 in model-bundle/models.json.
fetch_dlib() {
  local file sha
  read -r file sha < <(node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).dlib;
    console.log(d.file + " " + d.sha256);' model-bundle/models.json)
  if [[ -f "$models_dir/$file" && "$(sha256_of "$models_dir/$file")" == "$sha" && -f "$models_dir/face-api/face_recognition_model.bin" ]]; then
    echo "models: $models_dir/$file matches models.json; nothing to convert."
    return
  fi
  dotnet run --project src/FaceIndex.Cli -c Release -- models fetch --models "$models_dir" --cache "$cache_dir"
}

if [[ $all_present == 1 ]]; then
  echo "models: ${#models[@]} files in $models_dir match the manifest; nothing to fetch."
  fetch_dlib
  exit 0
fi

mkdir -p "$cache_dir" "$models_dir"
tarball="$cache_dir/$package-$version.tgz"
if [[ ! -f "$tarball" || "$(sha256_of "$tarball")" != "$tarball_sha" ]]; then
  echo "models: npm pack $package@$version"
  rm -f "$tarball"
  (cd "$cache_dir" && npm pack "$package@$version" --silent >/dev/null)
fi
actual=$(sha256_of "$tarball")
if [[ "$actual" != "$tarball_sha" ]]; then
  echo "models: $tarball has SHA-256 $actual, the manifest pins $tarball_sha; refusing it." >&2
  rm -f "$tarball"
  exit 1
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
for entry in "${models[@]}"; do
  file=${entry%%:*} sha=${entry##*:}
  tar -xzf "$tarball" -C "$staging" "$prefix$file"
  got=$(sha256_of "$staging/$prefix$file")
  if [[ "$got" != "$sha" ]]; then
    echo "models: $file from the tarball has SHA-256 $got, the manifest pins $sha." >&2
    exit 1
  fi
  mv -f "$staging/$prefix$file" "$models_dir/$file"
  echo "models: $models_dir/$file ok"
done
fetch_dlib
