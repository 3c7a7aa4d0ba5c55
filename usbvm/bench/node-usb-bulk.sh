#!/bin/bash
# Guest script: serves the PoC camera in bulk mode and measures node `usb` 2.x and 3.x bulk throughput at several depths.
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
exec 2>&1
M=${MEASURE_DIR:?}
poc_start bulk --mode bulk --fps ${FPS:-60} --width 320 --height 240 || exit 11
wait_for "usb_dev_by_id 0x1209 0x0001 >/dev/null" 15 || exit 13
for spec in ${SPECS:-usb2:1 usb2:4 usb2:8 usb3:1 usb3:4}; do
	v=${spec%%:*} d=${spec##*:}
	node $H/bench/node-usb-bulk.js $M/$v/node_modules/usb $d ${SECONDS_PER:-4} | tee -a /results/bulk.jsonl
done
poc_stop
exit 0
