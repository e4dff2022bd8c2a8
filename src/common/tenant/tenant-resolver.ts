import type { Request } from 'express';

/**
 * Decides which tenant a request acts for. The standalone service maps API keys; a host plugs in
 * its own (for example a claim of its JWT) through MlModule's `tenantResolver` option.
 * Returns null when the caller is not authenticated.
 */
export interface TenantResolver {
  resolve(request: Request): Promise<string | null>;
}

/** Injection token of the active TenantResolver inside MlModule. */
export const TENANT_RESOLVER = Symbol('TENANT_RESOLVER');

/** Tenant ids as the ML Service accepts them in X-Tenant-ID. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
