#!/bin/bash
# Guest script of `pnpm bench usb`: our UVC driver (UvcCamera + UvcCaptureEngine over usbfs / node-usb) vs uvcvideo on one USB/IP camera, interleaved rounds.
# Env: KSEMU_ROOT (required), ROUNDS (3), FRAMES (150), W/HT (640x480), FPS (30), MODES ("bulk iso"),
#      BULK_DRIVERS ("usbfs node-usb uvcvideo"), ISO_DRIVERS ("usbfs uvcvideo"; BACKEND@N = N transfers in flight),
#      SERVER_AT (guest|host: host = the servers run on the host, reached at 10.0.2.2 over QEMU user networking).
# Servers: bulk camera on port 3240, iso camera on 3241 (usbip-export's serve-pattern-camera, --pace strict, which
# writes per-stream device counts to /results/server-<mode>.jsonl). Output: /results/rates.jsonl, one line per stream.
set -u
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
PROBE=$ROOT/packages/hal/dist/bench/usb-rate-probe.js
SERVE=$ROOT/packages/usbip-export/dist/testing/serve-pattern-camera.js
CHECK=$ROOT/packages/hal/dist/bench/frame-file-check.js
ROUNDS=${ROUNDS:-3} FRAMES=${FRAMES:-150} W=${W:-640} HT=${HT:-480} FPS=${FPS:-30} MODES=${MODES:-bulk iso}
SERVER_AT=${SERVER_AT:-guest}
OUT=/results/rates.jsonl
: >"$OUT"
port_of() { [ "$1" = bulk ] && echo 3240 || echo 3241; }

modprobe vhci-hcd || exit 10
modprobe uvcvideo || exit 10
if [ "$SERVER_AT" = host ]; then
	RHOST=10.0.2.2
else
	RHOST=127.0.0.1
	for mode in $MODES; do
		: >"/results/server-$mode.jsonl"
		node "$SERVE" --mode "$mode" --port "$(port_of "$mode")" --fps "$FPS" --width "$W" --height "$HT" --clock pts \
			--pace strict --stats "/results/server-$mode.jsonl" >"/results/server-$mode.log" 2>&1 &
	done
	for mode in $MODES; do
		wait_for "grep -q listening /results/server-$mode.log 2>/dev/null" 30 || { cat "/results/server-$mode.log"; exit 11; }
	done
fi
echo "load: $(cat /proc/loadavg) guest CPUs: $(nproc) server: $SERVER_AT"

# device_lines MODE: how many streams the server has reported; device_line MODE N: the Nth report (waits for it)
device_lines() { wc -l <"/results/server-$1.jsonl" 2>/dev/null || echo 0; }
device_line() {
	local i
	for i in $(seq 50); do [ "$(device_lines "$1")" -ge "$2" ] && break; sleep 0.1; done
	sed -n "${2}p" "/results/server-$1.jsonl"
}

BASE=0
emit() { # emit JSON_FROM_DRIVER MODE ROUND ORDER: merge the driver's and the device's view (stream BASE+1) into one line
	local drv=$1 mode=$2 r=$3 ord=$4 dev
	dev=$(device_line "$mode" $((BASE + 1)))
	node -e 'const d=JSON.parse(process.argv[1]||"{}"),s=JSON.parse(process.argv[2]||"{}");
const at=s.skipsAt||[];delete s.skipsAt;
// device skips while this driver was receiving (between its first and last frame), before and after that window
s.skippedInWindow=at.filter(e=>e>d.firstNumber&&e<=d.lastNumber).length;
// of those, the ones right after the first frame: the driver was still starting (URBs not yet queued)
s.skippedAtStart=at.filter(e=>e===d.firstNumber+1).length;
s.skippedBefore=at.filter(e=>e<=d.firstNumber).length;s.skippedAfter=at.length-s.skippedInWindow-s.skippedBefore;
const o={mode:process.argv[3],round:+process.argv[4],order:+process.argv[5],server:process.argv[6],...d,device:s};
console.log(JSON.stringify(o))' "$drv" "$dev" "$mode" "$r" "$ord" "$SERVER_AT" | tee -a "$OUT"
}

run_ours() { # run_ours MODE BACKEND[@DEPTH] ROUND ORDER
	local j b=${2%@*} d=
	[ "$b" != "$2" ] && d="--depth ${2#*@}"
	BASE=$(device_lines "$1")
	j=$(timeout -k 5 180 node ${PROFILE:+--cpu-prof --cpu-prof-dir=/results/prof-$1-$2-$3} "$PROBE" --backend "$b" $d --width "$W" --height "$HT" --frames "$FRAMES" 2>"/results/probe-$1-$2-$3.err" | tail -1)
	[ -n "$j" ] || j="{\"driver\":\"ours\",\"backend\":\"$b\",\"error\":\"no output (see probe-$1-$2-$3.err)\"}"
	emit "$j" "$1" "$3" "$4"
}

# busy_ms: the whole guest's busy CPU time (user+nice+system+irq+softirq) in ms (USER_HZ = 100), like the probe's
busy_ms() { awk '/^cpu /{print ($2+$3+$4+$7+$8)*10; exit}' /proc/stat; }

run_uvcvideo() { # run_uvcvideo MODE ROUND ORDER
	local n t0 t1 j
	wait_for "host_video_node >/dev/null" 20 || { emit '{"driver":"uvcvideo","error":"no video node"}' "$1" "$2" "$3"; return; }
	n=$(host_video_node)
	BASE=$(device_lines "$1")
	rm -f /tmp/uvc.yuyv
	t0=$(cut -d' ' -f1 /proc/uptime)
	b0=$(busy_ms)
	timeout -k 5 180 v4l2-ctl -d "$n" --set-fmt-video=width="$W",height="$HT",pixelformat=YUYV --set-parm="$FPS" \
		--stream-mmap=4 --stream-count="$FRAMES" --stream-to=/tmp/uvc.yuyv --verbose >"/results/v4l2-$1-$2.txt" 2>&1
	b1=$(busy_ms)
	t1=$(cut -d' ' -f1 /proc/uptime)
	j=$(node "$CHECK" /tmp/uvc.yuyv "$W" "$HT" "/results/v4l2-$1-$2.txt" "$(awk "BEGIN{print $t1-$t0}")" $((b1 - b0)))
	rm -f /tmp/uvc.yuyv
	emit "$j" "$1" "$2" "$3"
}

# Warm-up (not recorded): the first node process pages the node binary and our modules in over 9p while it
# streams, and the first uvcvideo stream after boot allocates its buffers; neither should count against a driver.
cat "$(command -v node)" >/dev/null
for mode in $MODES; do
	usbip --tcp-port "$(port_of "$mode")" attach -r "$RHOST" -b 1-1 || { echo "attach $mode failed"; exit 12; }
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20 || exit 13
	b=$(device_lines "$mode")
	timeout -k 5 120 node "$PROBE" --backend usbfs --width "$W" --height "$HT" --frames 30 >/dev/null 2>&1
	wait_for "[ \$(device_lines $mode) -gt $b ]" 5
	b=$(device_lines "$mode")
	wait_for "host_video_node >/dev/null" 20 &&
		timeout -k 5 120 v4l2-ctl -d "$(host_video_node)" --set-fmt-video=width="$W",height="$HT",pixelformat=YUYV \
			--stream-mmap=4 --stream-count=30 --stream-to=/dev/null >/dev/null 2>&1
	wait_for "[ \$(device_lines $mode) -gt $b ]" 5
	vhci_detach_all
	wait_for "! usb_dev_by_id 0x1209 0x0001 >/dev/null" 10
done

for r in $(seq "$ROUNDS"); do
	for mode in $MODES; do
		usbip --tcp-port "$(port_of "$mode")" attach -r "$RHOST" -b 1-1 || { echo "attach $mode failed"; exit 12; }
		wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20 || exit 13
		drivers=${BULK_DRIVERS:-usbfs node-usb uvcvideo}
		[ "$mode" = iso ] && drivers=${ISO_DRIVERS:-usbfs uvcvideo}
		# alternate the order every round so neither driver always runs first after the attach
		[ $((r % 2)) = 0 ] && drivers=$(echo "$drivers" | tr ' ' '\n' | tac | tr '\n' ' ')
		ord=0
		for d in $drivers; do
			ord=$((ord + 1))
			if [ "$d" = uvcvideo ]; then run_uvcvideo "$mode" "$r" "$ord"; else run_ours "$mode" "$d" "$r" "$ord"; fi
		done
		vhci_detach_all
		wait_for "! usb_dev_by_id 0x1209 0x0001 >/dev/null" 10
	done
done
echo "load: $(cat /proc/loadavg)"
exit 0
