#!/bin/bash
# Guest script (usbvm): our USB/IP export of the pattern camera attached through vhci-hcd, consumed by uvcvideo.
# Run from the repo root after `pnpm exec tsc -b packages/usbip-export`:
#   USBVM_CACHE=$PWD/.usbvm-cache usbvm/usbvm.sh run -e KSEMU_ROOT=$PWD packages/usbip-export/scripts/vm-uvcvideo.sh
set -u
H=${USBVM_HOME:?}
. "$H/guest/lib.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
SERVE=$ROOT/packages/usbip-export/dist/testing/serve-pattern-camera.js
modprobe vhci-hcd || exit 10
modprobe uvcvideo || exit 10
rc_all=0
for mode in ${MODES:-bulk iso}; do
	node "$SERVE" --transfer "$mode" --port 3240 >"/results/$mode-server.log" 2>&1 &
	SPID=$!
	wait_for "grep -q listening /results/$mode-server.log" 30 || { bad "$mode: server did not start"; rc_all=1; continue; }
	usbip list -r 127.0.0.1 >"/results/$mode-list.txt" 2>&1 && ok "$mode: usbip list" || bad "$mode: usbip list"
	if ! usbip attach -r 127.0.0.1 -b 1-1; then bad "$mode: attach"; rc_all=1; kill $SPID; continue; fi
	if ! wait_for "host_video_node >/dev/null" 30; then bad "$mode: uvcvideo did not bind"; rc_all=1; dmesg | tail -30; vhci_detach_all; kill $SPID; continue; fi
	ok "$mode: uvcvideo bound"
	V=$(host_video_node)
	v4l2-ctl -d "$V" --list-formats-ext >"/results/$mode-formats.txt" 2>&1
	if grep -q "64x48" "/results/$mode-formats.txt" && grep -q "160x120" "/results/$mode-formats.txt" && grep -q YUYV "/results/$mode-formats.txt"; then ok "$mode: formats listed"; else bad "$mode: formats"; cat "/results/$mode-formats.txt"; rc_all=1; fi
	for size in 64x48 160x120; do
		w=${size%x*}; h=${size#*x}
		rm -f "/results/$mode-$size.raw"
		if timeout 120 v4l2-ctl -d "$V" --set-fmt-video=width=$w,height=$h,pixelformat=YUYV --stream-mmap --stream-count=30 --stream-to="/results/$mode-$size.raw" >"/results/$mode-$size-stream.txt" 2>&1; then
			if node -e '
				const fs = require("fs"); const [file, len] = [process.argv[1], Number(process.argv[2])];
				const b = fs.readFileSync(file); const n = b.length / len; let prev = -1, bad = 0;
				const pat = (k, i) => i < 4 ? (k >>> (8 * i)) & 255 : (k * 31 + i * 7 + (i >>> 9)) & 255;
				for (let f = 0; f < n; f++) { const o = f * len; const k = b.readUInt32LE(o);
					if (k <= prev) bad++; prev = k;
					for (let i = 0; i < len; i++) if (b[o + i] !== pat(k, i)) { bad++; break; } }
				console.log(`${n} frames, ${bad} bad, last index ${prev}`); process.exit(n === 30 && bad === 0 ? 0 : 1);' "/results/$mode-$size.raw" $((w * h * 2)) >"/results/$mode-$size-check.txt" 2>&1; then
				ok "$mode $size: 30 frames, bytes equal the pattern ($(cat "/results/$mode-$size-check.txt"))"
			else bad "$mode $size: frame check: $(cat "/results/$mode-$size-check.txt")"; rc_all=1; fi
		else bad "$mode $size: streaming failed"; tail -5 "/results/$mode-$size-stream.txt"; rc_all=1; fi
	done
	if [ "${COMPLIANCE:-1}" = 1 ]; then
		timeout 400 v4l2-compliance -d "$V" -s >"/results/$mode-compliance.txt" 2>&1
		line=$(grep -E '^Total' "/results/$mode-compliance.txt" | tail -1)
		if echo "$line" | grep -q 'Failed: 0'; then ok "$mode: v4l2-compliance ($line)"; else note "$mode: v4l2-compliance ${line:-did not finish} (see $mode-compliance.txt)"; fi
	fi
	v4l2-ctl -d "$V" -c brightness=17 >/dev/null 2>&1
	b=$(v4l2-ctl -d "$V" -C brightness 2>/dev/null | awk '{print $2}')
	if [ "$b" = 17 ] && grep -q '"brightness":17' "/results/$mode-server.log"; then ok "$mode: brightness set reaches the source"; else bad "$mode: brightness ($b)"; rc_all=1; fi
	vhci_detach_all
	wait_for "! host_video_node >/dev/null" 15 && ok "$mode: detach clean" || { bad "$mode: detach"; rc_all=1; }
	kill $SPID; wait $SPID 2>/dev/null
	dmesg | grep -i -E 'uvc|vhci|usbip' | tail -20 >"/results/$mode-dmesg.txt"
done
# The same compliance run against the proof-of-concept server, to tell uvcvideo/vhci findings from ours.
if [ "${POC_COMPLIANCE:-0}" = 1 ]; then
	node "$H/poc/usbip-uvc-server.js" --mode bulk --port 3240 >/results/poc-server.log 2>&1 &
	SPID=$!
	if wait_for "grep -q listening /results/poc-server.log" 30 && usbip attach -r 127.0.0.1 -b 1-1 && wait_for "host_video_node >/dev/null" 30; then
		timeout 400 v4l2-compliance -d "$(host_video_node)" -s >/results/poc-compliance.txt 2>&1
		note "poc: v4l2-compliance $(grep -E '^Total' /results/poc-compliance.txt | tail -1)"
		vhci_detach_all
	else note "poc: could not attach"; fi
	kill $SPID
fi
summary
exit $rc_all
