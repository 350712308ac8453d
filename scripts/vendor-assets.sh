#!/usr/bin/env bash
# Refresh the vendored front-end assets from the npm registry. The app never loads anything
# from a CDN: government intranets have no internet. Bump a version here, run, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
BOOTSTRAP_VERSION=5.3.8

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "bootstrap@${BOOTSTRAP_VERSION}" >/dev/null && tar xzf bootstrap-*.tgz)
dest=static/vendor/bootstrap
rm -rf "$dest" && mkdir -p "$dest"
cp "$work/package/dist/css/bootstrap.min.css" "$dest/"
cp "$work/package/dist/js/bootstrap.bundle.min.js" "$dest/"
# The source maps are referenced from the minified files; a hashed static storage needs them.
cp "$work/package/dist/css/bootstrap.min.css.map" "$work/package/dist/js/bootstrap.bundle.min.js.map" "$dest/"
cp "$work/package/LICENSE" "$dest/LICENSE"
echo "bootstrap ${BOOTSTRAP_VERSION} (npm: bootstrap@${BOOTSTRAP_VERSION}, dist/)" > "$dest/VERSION"
echo "vendored bootstrap ${BOOTSTRAP_VERSION} into ${dest}"
