// Public entry point of ks-core.
export {};
