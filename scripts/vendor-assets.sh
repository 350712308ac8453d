#!/usr/bin/env bash
# Refresh the vendored front-end assets from the npm registry. The app never loads anything
# from a CDN: government intranets have no internet. Bump a version here, run, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_VERSION=5.3.8
# The dashboard's charts. The UMD build is a single self-contained file (no ES modules, no
# bundler) that defines window.Chart; it needs neither eval nor inline styles, so it runs under
# a strict Content-Security-Policy.
CHARTJS_VERSION=4.6.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME VERSION: unpack the npm tarball into $work/NAME/package.
fetch() {
  mkdir -p "$work/$1"
  (cd "$work/$1" && npm pack --silent "$1@$2" >/dev/null && tar xzf ./*.tgz)
}

fetch bootstrap "$BOOTSTRAP_VERSION"
src="$work/bootstrap/package"
dest=static/vendor/bootstrap
rm -rf "$dest" && mkdir -p "$dest"
cp "$src/dist/css/bootstrap.min.css" "$dest/"
cp "$src/dist/js/bootstrap.bundle.min.js" "$dest/"
# The source maps are referenced from the minified files; a hashed static storage needs them.
cp "$src/dist/css/bootstrap.min.css.map" "$src/dist/js/bootstrap.bundle.min.js.map" "$dest/"
cp "$src/LICENSE" "$dest/LICENSE"
echo "bootstrap ${BOOTSTRAP_VERSION} (npm: bootstrap@${BOOTSTRAP_VERSION}, dist/)" > "$dest/VERSION"
echo "vendored bootstrap ${BOOTSTRAP_VERSION} into ${dest}"

fetch chart.js "$CHARTJS_VERSION"
src="$work/chart.js/package"
dest=static/vendor/chartjs
rm -rf "$dest" && mkdir -p "$dest"
# chart.umd.js is already minified; its map is referenced from it (see above).
cp "$src/dist/chart.umd.js" "$src/dist/chart.umd.js.map" "$dest/"
cp "$src/LICENSE.md" "$dest/LICENSE.md"
echo "chart.js ${CHARTJS_VERSION} (npm: chart.js@${CHARTJS_VERSION}, dist/chart.umd.js)" > "$dest/VERSION"
echo "vendored chart.js ${CHARTJS_VERSION} into ${dest}"
