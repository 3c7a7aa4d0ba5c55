// Public entry point of hal.
export {};
