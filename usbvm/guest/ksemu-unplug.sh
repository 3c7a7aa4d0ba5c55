#!/bin/bash
# Unplugs every USB/IP device from vhci-hcd (the VM tests' "pull the cable").
H=${USBVM_HOME:-$(cd "$(dirname "$0")/.." && pwd)}
. "$H/guest/lib.sh"
vhci_detach_all
