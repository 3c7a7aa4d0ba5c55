#!/bin/bash
# Plugs the USB/IP camera served on 127.0.0.1:3240 back in (the VM tests' hotplug).
exec usbip attach -r 127.0.0.1 -b 1-1
