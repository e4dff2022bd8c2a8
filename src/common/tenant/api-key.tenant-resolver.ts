import type { Request } from 'express';
import { TenantResolver } from '@app/common/tenant/tenant-resolver';

/** Standalone authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`, mapped to a tenant. */
export class ApiKeyTenantResolver implements TenantResolver {
  constructor(private readonly tenantByApiKey: ReadonlyMap<string, string>) {}

  resolve(request: Request): Promise<string | null> {
    const key = ApiKeyTenantResolver.keyOf(request);
    return Promise.resolve(key === null ? null : (this.tenantByApiKey.get(key) ?? null));
  }

  private static keyOf(request: Request): string | null {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey !== '') {
      return apiKey;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    return match?.[1] ?? null;
  }
}
