#!/bin/bash
# `pnpm test:usb`: builds the workspace and the usbfs addon, then boots the usbvm guest and runs our VM tests in it.
# Needs root once for usbvm/setup.sh (apt packages + the Debian kernel into .usbvm-cache/); prints timings.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export USBVM_CACHE=${USBVM_CACHE:-$ROOT/.usbvm-cache}
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N)-$1}"; }
if [ "$(id -u)" = 0 ]; then
	WITH_DUMMY_ISO=${WITH_DUMMY_ISO:-1} "$ROOT/usbvm/setup.sh"
elif ! command -v qemu-system-x86_64 >/dev/null || ! compgen -G "$USBVM_CACHE/kernel/current/boot/vmlinuz-*" >/dev/null; then
	# setup.sh needs root (apt-get, the kernel package); like CI's other system-package tests, say so and skip
	echo "test:usb: SKIPPED: the VM harness is not set up and this is not root (run once as root: usbvm/setup.sh)"
	[ "${KSEMU_REQUIRE_USB_VM:-0}" = 1 ] && exit 1
	exit 0
fi
T1=$(date +%s.%N)
# The whole workspace; when an unrelated package fails to compile, the tier still runs if hal builds (the HAL
# steps import nothing else), and the conformance steps if minidriver-webcam does (else they fail, saying so).
if [ "${KSEMU_SKIP_BUILD:-0}" != 1 ]; then
	(cd "$ROOT" && pnpm exec tsc -b) || {
		echo "test:usb: workspace build failed; building packages/hal and packages/minidriver-webcam alone"
		(cd "$ROOT" && pnpm exec tsc -b packages/hal)
		(cd "$ROOT" && pnpm exec tsc -b packages/minidriver-webcam) || {
			echo "test:usb: packages/minidriver-webcam does not build; its conformance steps will fail"
			rm -f "$ROOT/packages/minidriver-webcam/dist/uvc-conformance.vm.test.js" # not a stale copy
		}
	}
fi
node "$ROOT/packages/hal/scripts/build-usbfs.mjs"
"$ROOT/usbvm/extra/build-dummy-hcd-iso.sh" >"$USBVM_CACHE/build-dummy-hcd-iso.log" 2>&1 ||
	echo "test:usb: dummy_hcd_iso not built (see $USBVM_CACHE/build-dummy-hcd-iso.log); the gadget tier is skipped"
"$ROOT/usbvm/usbvm.sh" build
T2=$(date +%s.%N)
rm -rf "$USBVM_CACHE/out/ksemu-tier" # stale results of an earlier run must not be mistaken for this one
rc=0
"$ROOT/usbvm/usbvm.sh" run -t "${KSEMU_VM_TIMEOUT:-900}" -e KSEMU_ROOT="$ROOT" "$ROOT/usbvm/guest/ksemu-tier.sh" >"$USBVM_CACHE/test-usb.log" 2>&1 || rc=$?
OUT=$USBVM_CACHE/out/ksemu-tier
cat "$OUT/summary.txt" 2>/dev/null || tail -50 "$USBVM_CACHE/test-usb.log"
echo "test:usb: setup $(awk "BEGIN{printf \"%.1f\", $T1-$T0}")s, build $(awk "BEGIN{printf \"%.1f\", $T2-$T1}")s, VM $(el "$T2")s, total $(el "$T0")s; rc=$rc; results in $OUT"
exit $rc
