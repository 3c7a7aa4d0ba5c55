#!/bin/bash
# Guest script: frame rate of our driver (usbfs, node-usb) vs uvcvideo on the same USB/IP camera, interleaved rounds.
# Env: ROUNDS (3), FPS (30), W/H (320x240), MODES ("bulk iso"). Output: /results/rates.jsonl + summary.
set -u
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
T=$ROOT/packages/hal/dist/usb/uvc-camera.vm.test.js
W=${W:-320} HH=${H_:-240}
modprobe vhci-hcd; modprobe uvcvideo
for mode in ${MODES:-bulk iso}; do
	poc_start "$mode" --mode "$mode" --fps "${FPS:-30}" --width "$W" --height "$HH" >/dev/null || exit 11
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20 || exit 13
	for r in $(seq "${ROUNDS:-3}"); do
		for b in usbfs node-usb uvcvideo; do
			[ "$mode" = iso ] && [ "$b" = node-usb ] && continue
			if [ "$b" = uvcvideo ]; then
				wait_for "host_video_node >/dev/null" 15 || continue
				t0=$(cut -d' ' -f1 /proc/uptime)
				v4l2-ctl -d "$(host_video_node)" --set-fmt-video=width=$W,height=$HH,pixelformat=YUYV --stream-mmap=4 --stream-count=100 --stream-to=/dev/null >/dev/null 2>&1
				t1=$(cut -d' ' -f1 /proc/uptime)
				echo "{\"mode\":\"$mode\",\"round\":$r,\"driver\":\"uvcvideo\",\"fps\":$(awk "BEGIN{printf \"%.2f\", 100/($t1-$t0)}")}" | tee -a /results/rates.jsonl
			else
				KSEMU_VM_TAG="$mode-$b-$r" KSEMU_VM_BACKEND=$b KSEMU_VM_WIDTH=$W KSEMU_VM_HEIGHT=$HH timeout 120 node --test "$T" >"/results/$mode-$b-$r.txt" 2>&1
				node -e 'const j=require(process.argv[1]);console.log(JSON.stringify({mode:process.argv[2],round:+process.argv[3],driver:j.backend,fps:j.fps,gaps:j.gaps,mismatched:j.mismatched}))' \
					"/results/vm-$mode-$b-$r.json" "$mode" "$r" | tee -a /results/rates.jsonl
			fi
		done
	done
	poc_stop
	grep -h "stream off" "/results/$mode-server.log" | tail -3
done
