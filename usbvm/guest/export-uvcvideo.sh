#!/bin/bash
# Guest script (usbvm): `ksemu serve-usbip synthetic:camera` in the guest, attached through vhci-hcd and consumed by uvcvideo:
# formats listed, frames via v4l2-ctl and ffmpeg equal to the camera's, brightness to the KS property, v4l2-compliance, detach.
# Build on the host first (pnpm exec tsc -b packages/cli), then:
#   USBVM_CACHE=$PWD/.usbvm-cache usbvm/usbvm.sh run -t 900 -e KSEMU_ROOT=$PWD usbvm/guest/export-uvcvideo.sh
set -u
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
exec 2>&1
ROOT=${KSEMU_ROOT:?}
G=$ROOT/usbvm/guest
KSEMU="node $ROOT/packages/cli/dist/bin.js"
DEV='synthetic:camera?pattern=box&seed=0'
FORMATS=${EXPORT_FORMATS:-YUY2,NV12,MJPG}
W=${EXPORT_WIDTH:-320} HT=${EXPORT_HEIGHT:-240}
modprobe vhci-hcd || exit 10
modprobe uvcvideo || exit 10
rc_all=0
fail() { bad "$*"; rc_all=1; }
t0=$(cut -d' ' -f1 /proc/uptime)
for mode in ${MODES:-bulk iso}; do
	L=/results/$mode-server.log
	# Virtual clock: frames go out as fast as uvcvideo takes them (none dropped by the server), bit-exact.
	KSEMU_LOG_LEVEL=info $KSEMU serve-usbip "$DEV" --transfer "$mode" --clock virtual --formats "$FORMATS" --max-fps 30 \
		>"/results/$mode-serve.txt" 2>"$L" &
	SPID=$!
	wait_for "grep -q 'attach:' /results/$mode-serve.txt" 40 || { fail "$mode: serve-usbip did not start"; cat "$L" | tail -5; kill $SPID; continue; }
	grep -q 'usbip attach -r 127.0.0.1 -b 1-1' "/results/$mode-serve.txt" && ok "$mode: serve-usbip prints the attach command" || fail "$mode: attach hint"
	if ! usbip attach -r 127.0.0.1 -b 1-1; then fail "$mode: usbip attach"; kill $SPID; continue; fi
	if ! wait_for "host_video_node >/dev/null" 40; then fail "$mode: uvcvideo did not bind"; dmesg | tail -20; vhci_detach_all; kill $SPID; continue; fi
	V=$(host_video_node)
	ok "$mode: uvcvideo bound ($V)"
	v4l2-ctl -d "$V" --list-formats-ext >"/results/$mode-formats.txt" 2>&1
	r=$(node "$G/export-formats-check.mjs" "$ROOT" "/results/$mode-formats.txt" "$FORMATS" 30 2>&1)
	[ $? = 0 ] && ok "$mode: --list-formats-ext lists exactly the pin's formats ($(echo "$r" | cut -c1-60))" || fail "$mode: formats $r"
	# v4l2-ctl, 100 YUYV frames
	f=/results/$mode-v4l2.yuyv
	if timeout 300 v4l2-ctl -d "$V" --set-fmt-video=width=$W,height=$HT,pixelformat=YUYV --stream-mmap --stream-count=100 --stream-to="$f" >"/results/$mode-v4l2.txt" 2>&1; then
		r=$(node "$G/export-frame-check.mjs" "$ROOT" "$f" YUY2 $W $HT 100 2>&1)
		[ $? = 0 ] && ok "$mode: v4l2-ctl 100 YUYV frames equal the camera's $r" || fail "$mode: v4l2-ctl frames $r"
	else fail "$mode: v4l2-ctl streaming"; tail -5 "/results/$mode-v4l2.txt"; fi
	rm -f "$f"
	# ffmpeg, YUYV (rawvideo passes the bytes through) and MJPEG (copied, not decoded)
	for fmt in yuyv422:YUY2 mjpeg:MJPG; do
		in=${fmt%%:*}; cc=${fmt#*:}
		case ",$FORMATS," in *",$cc,"*) ;; *) continue ;; esac
		f=/results/$mode-ffmpeg.$cc
		if timeout 300 ffmpeg -hide_banner -loglevel error -y -f v4l2 -input_format "$in" -video_size ${W}x$HT -i "$V" -frames:v 30 -c:v copy -f "$([ $cc = MJPG ] && echo mjpeg || echo rawvideo)" "$f" >"/results/$mode-ffmpeg-$cc.txt" 2>&1; then
			r=$(node "$G/export-frame-check.mjs" "$ROOT" "$f" "$cc" $W $HT 30 2>&1)
			[ $? = 0 ] && ok "$mode: ffmpeg -f v4l2 30 $cc frames equal the camera's $r" || fail "$mode: ffmpeg $cc frames $r"
		else fail "$mode: ffmpeg $cc"; tail -5 "/results/$mode-ffmpeg-$cc.txt"; fi
		rm -f "$f"
	done
	# brightness: V4L2 → UVC SET_CUR → KS VideoProcAmp Brightness (server log), read back by GET_CUR through KS
	v4l2-ctl -d "$V" -c brightness=23 >"/results/$mode-ctrl.txt" 2>&1
	b=$(v4l2-ctl -d "$V" -C brightness 2>/dev/null | awk '{print $2}')
	if [ "$b" = 23 ] && grep '"control set"' "$L" | grep -q '"value":23'; then ok "$mode: brightness=23 reached the KS property and reads back"; else fail "$mode: brightness (read $b)"; fi
	if [ "${COMPLIANCE:-1}" = 1 ]; then
		# Back to uncompressed: after ffmpeg the current format is MJPEG, whose per-frame JPEG encoding
		# (≈0.2 s under TCG) blocks the server's one thread and delays its USB/IP replies.
		v4l2-ctl -d "$V" --set-fmt-video=width=$W,height=$HT,pixelformat=YUYV >/dev/null 2>&1
		timeout 600 v4l2-compliance -d "$V" $([ $mode = bulk ] && echo -s10) >"/results/$mode-compliance.txt" 2>&1
		line=$(grep -E '^Total' "/results/$mode-compliance.txt" | tail -1)
		note "$mode: v4l2-compliance ${line:-did not finish}; failures: $(grep -E 'fail:' "/results/$mode-compliance.txt" | sed 's/^\s*//' | tr '\n' ';' | cut -c1-400)"
	fi
	vhci_detach_all
	wait_for "! host_video_node >/dev/null" 20 && ok "$mode: detach clean" || fail "$mode: detach"
	kill -INT $SPID
	wait $SPID
	src=$?
	grep -q '0 buffers outstanding' "/results/$mode-serve.txt" && [ $src = 0 ] && ok "$mode: Ctrl-C stopped the server, every buffer returned ($(tail -1 /results/$mode-serve.txt))" || fail "$mode: server stop rc=$src $(tail -1 /results/$mode-serve.txt)"
	dmesg | grep -i -E 'uvc|vhci|usbip' | tail -30 >"/results/$mode-dmesg.txt"
done
echo "export_seconds=$(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t0}")"
summary
exit $rc_all
