import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { type HttpRequest, nodeRequestOf } from '@app/common/http/node-http';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';

const TENANT_ID = Symbol('tenantId');
const ACTOR = Symbol('actor');

/** Kept on the Node request, which middleware (the request log) and guards see under both adapters. */
type TenantScopedRequest = { [TENANT_ID]?: string; [ACTOR]?: string };

function scoped(request: object): TenantScopedRequest {
  return nodeRequestOf(request) as TenantScopedRequest;
}

/** Who the current request acts for and how to find it in the logs of both services. */
export interface TenantContext {
  tenantId: string;
  requestId: string;
  /** Who is calling, when the resolver knows (sent as X-Actor, recorded in the registry's audit). */
  actor?: string;
}

export function setTenantOf(request: object, tenantId: string, actor?: string): void {
  scoped(request)[TENANT_ID] = tenantId;
  if (actor !== undefined) {
    scoped(request)[ACTOR] = actor;
  }
}

/** The actor set by TenantGuard, if the resolver supplied one. */
export function actorOf(request: object): string | undefined {
  return scoped(request)[ACTOR];
}

/** The tenant set by TenantGuard; throws if a route forgot the guard, rather than acting for nobody. */
export function tenantOf(request: HttpRequest): string {
  const tenantId = scoped(request)[TENANT_ID];
  if (tenantId === undefined) {
    throw new Error(`${request.method} ${request.url} reads the tenant but is not guarded by TenantGuard`);
  }
  return tenantId;
}

/** The tenant TenantGuard set, or undefined before it ran or on a route it does not guard (logs). */
export function resolvedTenantOf(request: object): string | undefined {
  return scoped(request)[TENANT_ID];
}

/** Controller parameter: the caller's TenantContext. */
export const CallerTenant = createParamDecorator((_data: unknown, context: ExecutionContext): TenantContext => {
  const request = context.switchToHttp().getRequest<HttpRequest>();
  const actor = actorOf(request);
  const caller: TenantContext = { tenantId: tenantOf(request), requestId: requestIdOf(request) };
  return actor === undefined ? caller : { ...caller, actor };
});
