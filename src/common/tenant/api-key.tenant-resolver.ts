import type { HttpRequest } from '@app/common/http/node-http';
import { ResolvedCaller, TenantResolver } from '@app/common/tenant/tenant-resolver';

/** How much of an API key names its holder in audit trails: enough to tell keys apart, too little to use. */
const ACTOR_KEY_PREFIX_LENGTH = 8;

/** Standalone authentication: `X-API-Key: <key>` or `Authorization: Bearer <key>`, mapped to a tenant. */
export class ApiKeyTenantResolver implements TenantResolver {
  constructor(private readonly tenantByApiKey: ReadonlyMap<string, string>) {}

  resolve(request: HttpRequest): Promise<ResolvedCaller | null> {
    const key = ApiKeyTenantResolver.keyOf(request);
    const tenantId = key === null ? undefined : this.tenantByApiKey.get(key);
    if (key === null || tenantId === undefined) {
      return Promise.resolve(null);
    }
    return Promise.resolve({ tenantId, actor: `api-key:${key.slice(0, ACTOR_KEY_PREFIX_LENGTH)}` });
  }

  private static keyOf(request: HttpRequest): string | null {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey !== '') {
      return apiKey;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    return match?.[1] ?? null;
  }
}
