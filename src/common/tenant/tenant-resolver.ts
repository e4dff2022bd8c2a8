import type { HttpRequest } from '@app/common/http/node-http';

/** A resolved caller: the tenant it acts for and, when known, who it is (recorded in audit trails). */
export interface ResolvedCaller {
  tenantId: string;
  /** A user name, or `api-key:<first 8 chars>`; optional so host resolvers need not know one. */
  actor?: string;
}

/**
 * Decides which tenant a request acts for. The standalone service maps API keys; a host plugs in
 * its own (for example a claim of its JWT) through MlModule's `tenantResolver` option.
 * Returns null when the caller is not authenticated. A bare tenant id string is still accepted, so
 * resolvers written before actors existed keep working.
 */
export interface TenantResolver {
  resolve(request: HttpRequest): Promise<string | ResolvedCaller | null>;
}

/** Injection token of the active TenantResolver inside MlModule. */
export const TENANT_RESOLVER = Symbol('TENANT_RESOLVER');

/** Tenant ids as the ML Service accepts them in X-Tenant-ID. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Actors travel as the X-Actor header: printable ASCII only, so they cannot forge headers or log lines. */
export const ACTOR_PATTERN = /^[\x21-\x7E][\x20-\x7E]{0,127}$/;
