// Public exports of tinker-ts. Nothing else lives here.
export const SDK_VERSION = "0.1.0";
