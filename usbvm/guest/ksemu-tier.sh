#!/bin/bash
# Guest script of `pnpm test:usb`: runs our compiled VM tests (packages/hal/dist/usb/*.vm.test.js) against
# (1) the USB/IP camera in bulk mode, (2) in iso mode, (3) the kernel UVC gadget on dummy_hcd_iso (when built);
# last on each device, the ks-core conformance suite over the webcam minidriver (conformance-step.sh), which unplugs it.
set -u
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
. "$H/guest/conformance-step.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
T=$ROOT/packages/hal/dist/usb/uvc-camera.vm.test.js
HOST_T=$ROOT/packages/hal/dist/uvc-camera/uvc-camera-host.vm.test.js
# Our own USB/IP export serves the camera (the harness's proof of concept only when it is not built).
OURS=$ROOT/packages/usbip-export/dist/testing/serve-pattern-camera.js
if [ -z "${KSEMU_SERVER:-}" ] && [ -f "$OURS" ]; then SERVER=$OURS; else SERVER=${KSEMU_SERVER:-$H/poc/usbip-uvc-server.js}; fi
export KSEMU_VM_UNPLUG_CMD="$H/guest/ksemu-unplug.sh" KSEMU_VM_PLUG_CMD="$H/guest/ksemu-plug.sh"
rc_all=0
t_start=$(cut -d' ' -f1 /proc/uptime)

# run NAME VAR=VALUE...: one node:test process; results in /results/NAME.txt
run() {
	local name=$1; shift
	local t0; t0=$(cut -d' ' -f1 /proc/uptime)
	timeout -k 5 300 env KSEMU_VM_TAG="$name" "$@" node --test --test-reporter=spec "$T" >"/results/$name.txt" 2>&1
	local rc=$?
	local dt; dt=$(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t0}")
	if [ $rc = 0 ]; then ok "$name (${dt}s)"; else bad "$name rc=$rc (${dt}s)"; sed 's/^/    /' "/results/$name.txt" | tail -40; rc_all=1; fi
}

# uvc_rate NAME: frame rate of the kernel's uvcvideo on the same device (reference for our driver's fps)
uvc_rate() {
	local name=$1 n t0 t1 dt
	wait_for "host_video_node >/dev/null" 15 || { note "$name: no uvcvideo node for the reference rate"; return 0; }
	n=$(host_video_node)
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 120 v4l2-ctl -d "$n" --set-fmt-video=width=${KSEMU_VM_WIDTH:-320},height=${KSEMU_VM_HEIGHT:-240},pixelformat=YUYV \
		--stream-mmap=4 --stream-count=100 --stream-to=/dev/null >"/results/$name-uvcvideo.txt" 2>&1 || { bad "$name uvcvideo stream"; return 0; }
	t1=$(cut -d' ' -f1 /proc/uptime)
	dt=$(awk "BEGIN{print $t1-$t0}")
	echo "{\"uvcvideo_frames\": 100, \"seconds\": $dt, \"fps\": $(awk "BEGIN{printf \"%.2f\", 100/$dt}")}" >"/results/vm-$name-uvcvideo.json"
	note "$name uvcvideo reference: 100 frames in ${dt}s"
}

modprobe vhci-hcd || exit 10
modprobe uvcvideo || exit 10
udevd_start || exit 10

for mode in bulk iso; do
	POC=$SERVER poc_start "$mode" --mode "$mode" --fps 30 || { bad "$mode server"; rc_all=1; continue; }
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20 || { bad "$mode attach"; rc_all=1; poc_stop; continue; }
	udevadm settle -t 10
	run "$mode-usbfs" KSEMU_VM_BACKEND=usbfs
	uvc_rate "$mode"
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20
	udevadm settle -t 10
	run "$mode-node-usb" KSEMU_VM_BACKEND=node-usb
	# The same camera through the HAL's UvcCamera + UvcCaptureEngine (what ksemu streams from).
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20
	udevadm settle -t 10
	T=$HOST_T run "$mode-usbfs-host" KSEMU_VM_BACKEND=usbfs
	# The ks-core conformance suite over the webcam minidriver on this camera (its hot-unplug test detaches it).
	# The host test's unplug test left the camera detached: plug it back first (waiting for a device that is not
	# coming costs the whole wait_for, ~1 s a round under TCG).
	usb_dev_by_id 0x1209 0x0001 >/dev/null || "$KSEMU_VM_PLUG_CMD" >/dev/null
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20
	udevadm settle -t 10
	conformance "$mode-conformance"
	poc_stop
done

if [ -f "$USBVM_BUILD/extra-modules/dummy_hcd_iso.ko" ] || modinfo dummy_hcd_iso >/dev/null 2>&1; then
	modprobe dummy_hcd_iso || true
	if uvc_gadget_start dummy_udc.0 gadget; then
		wait_for "usb_dev_by_id $UVC_VID $UVC_PID >/dev/null" 20
		udevadm settle -t 10
		run gadget-usbfs KSEMU_VM_BACKEND=usbfs KSEMU_VM_VIDPID="${UVC_VID#0x}:${UVC_PID#0x}" KSEMU_VM_UNPLUG_CMD= KSEMU_VM_PLUG_CMD=
		uvc_rate gadget
		wait_for "usb_dev_by_id $UVC_VID $UVC_PID >/dev/null" 20
		udevadm settle -t 10
		T=$HOST_T run gadget-usbfs-host KSEMU_VM_BACKEND=usbfs KSEMU_VM_VIDPID="${UVC_VID#0x}:${UVC_PID#0x}" KSEMU_VM_UNPLUG_CMD= KSEMU_VM_PLUG_CMD=
		# Conformance on the gadget in MJPEG. Unplug/plug: power its root-hub port off/on (sysfs `disable`); the host
		# sees a disconnect, then a fresh enumeration, while the gadget and its responder stay up.
		wait_for "usb_dev_by_id $UVC_VID $UVC_PID >/dev/null" 20
		udevadm settle -t 10
		GPORT=$(readlink -f "$(usb_dev_by_id $UVC_VID $UVC_PID)/port")
		conformance gadget-conformance KSEMU_VM_VIDPID="${UVC_VID#0x}:${UVC_PID#0x}" KSEMU_VM_FORMAT=${KSEMU_VM_GADGET_FORMAT:-MJPG:640x480@30} \
			KSEMU_VM_UNPLUG_CMD="echo 1 >$GPORT/disable" KSEMU_VM_PLUG_CMD="echo 0 >$GPORT/disable"
		echo 0 >"$GPORT/disable"
		uvc_gadget_stop
	else
		bad "gadget start"; rc_all=1
	fi
else
	note "dummy_hcd_iso not built: gadget tier skipped (WITH_DUMMY_ISO=1 usbvm/setup.sh)"
fi
echo "tier_seconds=$(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t_start}")" | tee /results/tier-time.txt
summary
exit $rc_all
