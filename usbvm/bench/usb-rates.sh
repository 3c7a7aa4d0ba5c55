#!/bin/bash
# Host side of `pnpm bench usb`: boots the usbvm guest once (under the shared VM lock) and runs guest/bench-usb-rates.sh.
#   usbvm/bench/usb-rates.sh OUT_DIR      env: SERVER_AT=host|guest (host), ROUNDS, FRAMES, W, HT, FPS, MODES
# SERVER_AT=host runs the two pattern cameras (bulk :3240, iso :3241) on this machine and the guest imports them
# over QEMU user networking (10.0.2.2), so the device does not compete with the drivers for the emulated CPUs.
# Exit 3 = the VM harness is not set up (the bench suite reports that as skipped). Result: OUT_DIR/rates.jsonl.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: usb-rates.sh OUT_DIR}
export USBVM_CACHE=${USBVM_CACHE:-$ROOT/.usbvm-cache}
if ! command -v qemu-system-x86_64 >/dev/null || ! compgen -G "$USBVM_CACHE/kernel/current/boot/vmlinuz-*" >/dev/null; then
	echo "usb-rates: the VM harness is not set up (run once as root: usbvm/setup.sh, or pnpm test:usb as root)" >&2
	exit 3
fi
[ -f "$ROOT/packages/hal/native/usbfs/build/Release/usbfs.node" ] || node "$ROOT/packages/hal/scripts/build-usbfs.mjs" >&2
SERVER_AT=${SERVER_AT:-host}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
rm -f "$OUT"/rates.jsonl "$OUT"/server-*.jsonl
W=${W:-640} HT=${HT:-480} FPS=${FPS:-30} MODES=${MODES:-bulk iso}
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
net=0
if [ "$SERVER_AT" = host ]; then
	net=1
	for mode in $MODES; do
		port=3240
		[ "$mode" = iso ] && port=3241
		: >"$OUT/server-$mode.jsonl"
		node "$ROOT/packages/usbip-export/dist/testing/serve-pattern-camera.js" --mode "$mode" --port "$port" \
			--fps "$FPS" --width "$W" --height "$HT" --clock pts --pace strict --stats "$OUT/server-$mode.jsonl" \
			>"$OUT/host-server-$mode.log" 2>&1 &
		PIDS+=($!)
	done
	for mode in $MODES; do
		for _ in $(seq 100); do grep -q listening "$OUT/host-server-$mode.log" 2>/dev/null && break; sleep 0.1; done
		grep -q listening "$OUT/host-server-$mode.log" || { cat "$OUT/host-server-$mode.log" >&2; exit 11; }
	done
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)
# One VM at a time on this machine (other VM tiers take the same lock).
flock /tmp/ksemu-vm.lock env USBVM_NET=$net "$ROOT/usbvm/usbvm.sh" run -t "${KSEMU_BENCH_VM_TIMEOUT:-1500}" -o "$OUT" \
	-e KSEMU_ROOT="$ROOT" -e SERVER_AT="$SERVER_AT" -e ROUNDS="${ROUNDS:-3}" -e FRAMES="${FRAMES:-150}" \
	-e W="$W" -e HT="$HT" -e FPS="$FPS" -e MODES="$MODES" ${PROFILE:+-e PROFILE=1} ${BULK_DRIVERS:+-e BULK_DRIVERS="$BULK_DRIVERS"} ${ISO_DRIVERS:+-e ISO_DRIVERS="$ISO_DRIVERS"} "$ROOT/usbvm/guest/bench-usb-rates.sh" >"$OUT/vm.log" 2>&1
rc=$?
echo "{\"hostLoadBefore\":\"$load0\",\"hostLoadAfter\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"rc\":$rc,\"serverAt\":\"$SERVER_AT\"}" >"$OUT/meta.json"
exit $rc
