// The version ksemu reports (also written into golden manifests).
export const VERSION = '0.1.0';
