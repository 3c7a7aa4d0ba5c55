#!/bin/bash
# Host side of the uvcvideo VM check: snapshots the compiled export (so builds running in the shared tree
# cannot hand the guest half-written files), then boots usbvm with scripts/vm-uvcvideo.sh.
#   packages/usbip-export/scripts/vm-uvcvideo-run.sh        (after pnpm exec tsc -b packages/usbip-export)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
SNAP=${KSEMU_VM_SNAPSHOT:-/tmp/ksemu-usbip-snapshot}
rm -rf "$SNAP" && mkdir -p "$SNAP/packages/hal" "$SNAP/packages/usbip-export/node_modules/@ksemu"
cp -r "$ROOT/packages/hal/package.json" "$ROOT/packages/hal/dist" "$SNAP/packages/hal/"
cp -r "$ROOT/packages/usbip-export/package.json" "$ROOT/packages/usbip-export/dist" "$SNAP/packages/usbip-export/"
# A narrow hal entry: only the modules the export uses, so the guest loads a handful of files over 9p.
cat >"$SNAP/packages/hal/dist/index.js" <<'JS'
export * from './hal-error.js';
export * from './usbip/usbip-protocol.js';
export * from './usbip/usbip-stream-decoder.js';
export { DEFAULT_MAX_TRANSFER_LENGTH as USBIP_DEFAULT_MAX_TRANSFER_LENGTH } from './usbip/usbip-stream-decoder.js';
export * from './uvc/controls.js';
export * from './uvc/descriptor-types.js';
export * from './uvc/probe-commit.js';
export * from './uvc/payload-writer.js';
JS
ln -s ../../../hal "$SNAP/packages/usbip-export/node_modules/@ksemu/hal"
ln -s "$(readlink -f "$ROOT/packages/usbip-export/node_modules/pino")" "$SNAP/packages/usbip-export/node_modules/pino"
mkdir -p "$SNAP/packages/hal/node_modules"
ln -s "$(readlink -f "$ROOT/packages/usbip-export/node_modules/pino")" "$SNAP/packages/hal/node_modules/pino"
node -e "Promise.all(['usbip-server','uvc-function','testing/pattern-frame-source'].map((m) => import('$SNAP/packages/usbip-export/dist/' + m + '.js'))).then(() => console.log('snapshot loads'))"
export USBVM_CACHE=${USBVM_CACHE:-$ROOT/.usbvm-cache}
# Results outside the shared cache, which other runs may clean while this one is running.
export USBVM_OUT=${USBVM_OUT:-/tmp/ksemu-usbip-vm-out}
exec "$ROOT/usbvm/usbvm.sh" run -t "${KSEMU_VM_TIMEOUT:-600}" -e KSEMU_ROOT="$SNAP" -e MODES="${KSEMU_VM_MODES:-bulk iso}" -e COMPLIANCE="${KSEMU_VM_COMPLIANCE:-1}" -e POC_COMPLIANCE="${KSEMU_VM_POC_COMPLIANCE:-0}" "$ROOT/packages/usbip-export/scripts/vm-uvcvideo.sh"
