// Test harnesses of hal, exported as ./testing.
export {};
