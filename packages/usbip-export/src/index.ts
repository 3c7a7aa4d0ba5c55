// Public entry point of usbip-export.
export {};
