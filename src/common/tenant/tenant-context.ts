import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';

const TENANT_ID = Symbol('tenantId');

type TenantScopedRequest = Request & { [TENANT_ID]?: string };

/** Who the current request acts for and how to find it in the logs of both services. */
export interface TenantContext {
  tenantId: string;
  requestId: string;
}

export function setTenantOf(request: Request, tenantId: string): void {
  (request as TenantScopedRequest)[TENANT_ID] = tenantId;
}

/** The tenant set by TenantGuard; throws if a route forgot the guard, rather than acting for nobody. */
export function tenantOf(request: Request): string {
  const tenantId = (request as TenantScopedRequest)[TENANT_ID];
  if (tenantId === undefined) {
    throw new Error(`${request.method} ${request.originalUrl} reads the tenant but is not guarded by TenantGuard`);
  }
  return tenantId;
}

/** Controller parameter: the caller's TenantContext. */
export const CallerTenant = createParamDecorator((_data: unknown, context: ExecutionContext): TenantContext => {
  const request = context.switchToHttp().getRequest<Request>();
  return { tenantId: tenantOf(request), requestId: requestIdOf(request) };
});
