# shellcheck shell=bash
# Sourced by guest scripts (ksemu-tier.sh, conformance-uvc.sh): conformance NAME VAR=VALUE... runs the ks-core
# conformance suite (jest, packages/minidriver-webcam/dist/uvc-conformance.vm.test.js) over the webcam minidriver
# on the camera the script attached, through usbfs; output in /results/NAME.txt, verdict through ok/bad (lib.sh).
# Needs ROOT (the workspace) and rc_all (set to 1 on failure).
conformance() {
	local name=$1; shift
	local t0 rc dt
	if [ ! -f "$ROOT/packages/minidriver-webcam/dist/uvc-conformance.vm.test.js" ]; then
		bad "$name: packages/minidriver-webcam is not built"; rc_all=1; return 0
	fi
	t0=$(cut -d' ' -f1 /proc/uptime)
	(cd "$ROOT/packages/minidriver-webcam" &&
		timeout -k 5 "${KSEMU_CONFORMANCE_TIMEOUT:-300}" env KSEMU_VM_TAG="$name" "$@" \
			node --experimental-vm-modules --no-warnings "$ROOT/node_modules/jest/bin/jest.js" \
			-c jest.vm.config.mjs -i --ci) >"/results/$name.txt" 2>&1
	rc=$?
	dt=$(awk "BEGIN{print $(cut -d' ' -f1 /proc/uptime)-$t0}")
	local tests; tests=$(grep -E '^Tests:' "/results/$name.txt" | tail -1 | sed 's/^Tests: *//')
	if [ $rc = 0 ]; then
		ok "$name (${dt}s; ${tests:-no test count})"
	else
		bad "$name rc=$rc (${dt}s; ${tests:-no test count})"
		grep -E '✕|●' "/results/$name.txt" | head -20 | sed 's/^/    /'
		tail -30 "/results/$name.txt" | sed 's/^/    /'
		rc_all=1
	fi
	echo "{\"name\": \"$name\", \"seconds\": $dt, \"rc\": $rc}" >"/results/vm-$name.json"
}
