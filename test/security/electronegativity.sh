#!/usr/bin/env bash
# CI security scan of the Electron host (electron/desktop/main.ts, electron/desktop/preload.ts and what they import)
# with @doyensec/electronegativity. Fails on any HIGH or MEDIUM finding that is not explained in
# test/security/electronegativity.ts (EXPECTED); see test/security/ELECTRONEGATIVITY.md.
#
#   test/security/electronegativity.sh            # exit 0 clean, 1 unexplained findings, 2 scanner missing/failed
#
# Needs the devDependency @doyensec/electronegativity (npm install --save-dev @doyensec/electronegativity).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d node_modules/@doyensec/electronegativity ]; then
  echo "electronegativity: @doyensec/electronegativity is not installed; run: npm install --save-dev @doyensec/electronegativity" >&2
  exit 2
fi

exec node --import tsx test/security/electronegativity.ts "$@"
