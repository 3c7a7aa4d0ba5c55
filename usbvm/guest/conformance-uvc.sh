#!/bin/bash
# Guest script for iterating on the VM conformance step alone: the USB/IP camera (bulk and/or iso, $1, default "bulk iso")
# ("-" for neither) and the kernel UVC gadget ($2 = gadget) under the ks-core conformance suite; the same steps ksemu-tier.sh runs.
#   flock /tmp/ksemu-vm.lock usbvm/usbvm.sh run -e KSEMU_ROOT=$PWD usbvm/guest/conformance-uvc.sh "bulk" gadget
set -u
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
. "$H/guest/conformance-step.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
SERVER=$ROOT/packages/usbip-export/dist/testing/serve-pattern-camera.js
rc_all=0
modprobe vhci-hcd || exit 10
modprobe uvcvideo || exit 10
udevd_start || exit 10
for mode in ${1:-bulk iso}; do
	[ "$mode" = - ] && continue
	POC=$SERVER poc_start "$mode" --mode "$mode" --fps 30 || { bad "$mode server"; rc_all=1; continue; }
	wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 20 || { bad "$mode attach"; rc_all=1; poc_stop; continue; }
	udevadm settle -t 10
	conformance "$mode-conformance" KSEMU_VM_UNPLUG_CMD="$H/guest/ksemu-unplug.sh" KSEMU_VM_PLUG_CMD="$H/guest/ksemu-plug.sh" \
		${KSEMU_VM_CONSUMERS:+KSEMU_VM_CONSUMERS=$KSEMU_VM_CONSUMERS}
	poc_stop
done
if [ "${2:-}" = gadget ]; then
	modprobe dummy_hcd_iso || true
	if uvc_gadget_start dummy_udc.0 gadget; then
		wait_for "usb_dev_by_id $UVC_VID $UVC_PID >/dev/null" 20
		udevadm settle -t 10
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
fi
summary
exit $rc_all
