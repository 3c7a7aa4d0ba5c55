#!/bin/bash
# `pnpm test:usb-export` (to be wired by the lead): builds the CLI, boots the usbvm guest and runs guest/export-uvcvideo.sh
# (ksemu serve-usbip in the guest, uvcvideo + v4l2-ctl + ffmpeg + v4l2-compliance against it, bulk and iso).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export USBVM_CACHE=${USBVM_CACHE:-$ROOT/.usbvm-cache}
T0=$(date +%s.%N)
if ! command -v qemu-system-x86_64 >/dev/null || ! compgen -G "$USBVM_CACHE/kernel/current/boot/vmlinuz-*" >/dev/null; then
	if [ "$(id -u)" = 0 ]; then "$ROOT/usbvm/setup.sh"; else
		echo "test-export: SKIPPED: the VM harness is not set up and this is not root (run once as root: usbvm/setup.sh)"
		[ "${KSEMU_REQUIRE_USB_VM:-0}" = 1 ] && exit 1
		exit 0
	fi
fi
[ "${KSEMU_SKIP_BUILD:-0}" = 1 ] || (cd "$ROOT" && pnpm exec tsc -b packages/cli)
"$ROOT/usbvm/usbvm.sh" build
rm -rf "$USBVM_CACHE/out/export-uvcvideo"
rc=0
"$ROOT/usbvm/usbvm.sh" run -t "${KSEMU_VM_TIMEOUT:-900}" -e KSEMU_ROOT="$ROOT" ${MODES:+-e MODES="$MODES"} ${COMPLIANCE:+-e COMPLIANCE="$COMPLIANCE"} \
	"$ROOT/usbvm/guest/export-uvcvideo.sh" >"$USBVM_CACHE/test-export.log" 2>&1 || rc=$?
OUT=$USBVM_CACHE/out/export-uvcvideo
cat "$OUT/summary.txt" 2>/dev/null || grep -E '^(PASS|FAIL|NOTE)' "$USBVM_CACHE/test-export.log" || tail -40 "$USBVM_CACHE/test-export.log"
echo "test-export: $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N)-$T0}")s, rc=$rc, results in $OUT"
exit $rc
