import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';

const TENANT_ID = Symbol('tenantId');
const ACTOR = Symbol('actor');

type TenantScopedRequest = Request & { [TENANT_ID]?: string; [ACTOR]?: string };

/** Who the current request acts for and how to find it in the logs of both services. */
export interface TenantContext {
  tenantId: string;
  requestId: string;
  /** Who is calling, when the resolver knows (sent as X-Actor, recorded in the registry's audit). */
  actor?: string;
}

export function setTenantOf(request: Request, tenantId: string, actor?: string): void {
  (request as TenantScopedRequest)[TENANT_ID] = tenantId;
  if (actor !== undefined) {
    (request as TenantScopedRequest)[ACTOR] = actor;
  }
}

/** The actor set by TenantGuard, if the resolver supplied one. */
export function actorOf(request: Request): string | undefined {
  return (request as TenantScopedRequest)[ACTOR];
}

/** The tenant set by TenantGuard; throws if a route forgot the guard, rather than acting for nobody. */
export function tenantOf(request: Request): string {
  const tenantId = (request as TenantScopedRequest)[TENANT_ID];
  if (tenantId === undefined) {
    throw new Error(`${request.method} ${request.originalUrl} reads the tenant but is not guarded by TenantGuard`);
  }
  return tenantId;
}

/** The tenant TenantGuard set, or undefined before it ran or on a route it does not guard (logs). */
export function resolvedTenantOf(request: Request): string | undefined {
  return (request as TenantScopedRequest)[TENANT_ID];
}

/** Controller parameter: the caller's TenantContext. */
export const CallerTenant = createParamDecorator((_data: unknown, context: ExecutionContext): TenantContext => {
  const request = context.switchToHttp().getRequest<Request>();
  const actor = actorOf(request);
  const caller: TenantContext = { tenantId: tenantOf(request), requestId: requestIdOf(request) };
  return actor === undefined ? caller : { ...caller, actor };
});
