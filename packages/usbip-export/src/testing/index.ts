// Test harnesses of usbip-export, exported as ./testing.
export {};
