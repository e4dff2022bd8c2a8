import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { HttpRequest } from '@app/common/http/node-http';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { setTenantOf } from '@app/common/tenant/tenant-context';
import { ACTOR_PATTERN, TENANT_ID_PATTERN, TENANT_RESOLVER, type TenantResolver } from '@app/common/tenant/tenant-resolver';

/** Where a request may name a tenant; each must match the caller's own. */
const TENANT_FIELDS: { field: string; read: (named: NamedTenants) => unknown }[] = [
  { field: 'tenant_id', read: (named) => (named.query as { tenant_id?: unknown } | undefined)?.tenant_id },
  { field: 'tenant_id', read: (named) => (named.body as { tenant_id?: unknown } | undefined)?.tenant_id },
  { field: 'dataset.tenant_id', read: (named) => (named.body as { dataset?: { tenant_id?: unknown } } | undefined)?.dataset?.tenant_id },
];

/** A call's raw query and body (REST) or arguments (a tool call), before validation. */
export interface NamedTenants {
  query?: unknown;
  body?: unknown;
}

/**
 * Refuses (403 naming the field) a call that names a tenant other than the caller's: REST through
 * TenantGuard, tool calls through the tool registry, so both faces refuse alike.
 */
export function refuseOtherTenant(named: NamedTenants, tenantId: string): void {
  for (const { field, read } of TENANT_FIELDS) {
    const value = read(named);
    if (value !== undefined && value !== tenantId) {
      const message = `${field} ${JSON.stringify(value)} is not your tenant; your credentials are for "${tenantId}"`;
      throw new FieldErrorsException(HttpStatus.FORBIDDEN, [{ field, message }], message);
    }
  }
}

/**
 * Resolves the caller's tenant (401 when there is none) and refuses a request that names another
 * tenant (403 naming the field). Runs before validation, so it reads the raw body.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(@Inject(TENANT_RESOLVER) private readonly resolver: TenantResolver) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const resolved = await this.resolver.resolve(request);
    if (resolved === null) {
      throw new UnauthorizedException('Missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>');
    }
    const { tenantId, actor } = typeof resolved === 'string' ? { tenantId: resolved, actor: undefined } : resolved;
    if (!TENANT_ID_PATTERN.test(tenantId)) {
      throw new UnauthorizedException(`The resolved tenant id "${tenantId}" is not a valid tenant id`);
    }
    if (actor !== undefined && !ACTOR_PATTERN.test(actor)) {
      throw new UnauthorizedException('The resolved actor is not printable ASCII of at most 128 characters');
    }
    refuseOtherTenant({ query: request.query, body: request.body }, tenantId);
    setTenantOf(request, tenantId, actor);
    return true;
  }
}
