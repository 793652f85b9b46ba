// Injection token of the API's edge settings (api.config.ts), provided by the API modules.
export const API_CONFIG = Symbol('API_CONFIG');
