// Test harnesses of ks-core, exported as ./testing.
export {};
