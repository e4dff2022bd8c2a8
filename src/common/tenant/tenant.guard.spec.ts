import { describe, expect, it } from '@jest/globals';
import { ExecutionContext, HttpException } from '@nestjs/common';
import type { Request } from 'express';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { actorOf, tenantOf } from '@app/common/tenant/tenant-context';
import { TenantGuard } from '@app/common/tenant/tenant.guard';

const resolver = new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp'], ['dev-globex-key', 'globex']]));
const guard = new TenantGuard(resolver);

function requestWith(parts: { headers?: Record<string, string>; body?: unknown; query?: Record<string, unknown> }): Request {
  return { method: 'POST', originalUrl: '/api/v1/ml/train', headers: parts.headers ?? {}, body: parts.body, query: parts.query ?? {} } as unknown as Request;
}

function contextFor(request: Request): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

async function rejectionOf(request: Request): Promise<HttpException> {
  const error = await guard.canActivate(contextFor(request)).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof HttpException)) {
    throw new Error('expected the guard to refuse');
  }
  return error;
}

describe('TenantGuard with API keys', () => {
  it('accepts X-API-Key and records the tenant', async () => {
    const request = requestWith({ headers: { 'x-api-key': 'dev-acme-key' } });
    await expect(guard.canActivate(contextFor(request))).resolves.toBe(true);
    expect(tenantOf(request)).toBe('acme-corp');
  });

  it('names the actor by the first 8 characters of the key, never the whole key', async () => {
    const request = requestWith({ headers: { 'x-api-key': 'dev-acme-key' } });
    await guard.canActivate(contextFor(request));
    expect(actorOf(request)).toBe('api-key:dev-acme');
  });

  it('accepts a resolver that returns a bare tenant id, leaving the actor unknown', async () => {
    const request = requestWith({ headers: {} });
    await expect(new TenantGuard({ resolve: () => Promise.resolve('acme-corp') }).canActivate(contextFor(request))).resolves.toBe(true);
    expect(tenantOf(request)).toBe('acme-corp');
    expect(actorOf(request)).toBeUndefined();
  });

  it('refuses an actor that could forge a header', async () => {
    const request = requestWith({ headers: {} });
    const hostile = new TenantGuard({ resolve: () => Promise.resolve({ tenantId: 'acme-corp', actor: 'alice\r\nX-Tenant-ID: globex' }) });
    const error = await hostile.canActivate(contextFor(request)).then(
      () => undefined,
      (caught: unknown) => caught as HttpException,
    );
    expect(error?.getStatus()).toBe(401);
    expect(error?.message).toBe('The resolved actor is not printable ASCII of at most 128 characters');
  });

  it('accepts Authorization: Bearer', async () => {
    const request = requestWith({ headers: { authorization: 'Bearer dev-globex-key' } });
    await expect(guard.canActivate(contextFor(request))).resolves.toBe(true);
    expect(tenantOf(request)).toBe('globex');
  });

  it.each([
    ['no key', {}],
    ['an unknown key', { 'x-api-key': 'stolen' }],
    ['a malformed Authorization header', { authorization: 'Basic dev-acme-key' }],
  ])('answers 401 to %s', async (_case, headers) => {
    const error = await rejectionOf(requestWith({ headers }));
    expect(error.getStatus()).toBe(401);
    expect(error.message).toBe('Missing or unknown API key: send X-API-Key: <key> or Authorization: Bearer <key>');
  });

  it("answers 403 naming dataset.tenant_id when the body names another tenant", async () => {
    const error = await rejectionOf(
      requestWith({ headers: { 'x-api-key': 'dev-acme-key' }, body: { dataset: { source: 'sql', tenant_id: 'globex' } } }),
    );
    expect(error.getStatus()).toBe(403);
    expect(error.message).toBe('dataset.tenant_id "globex" is not your tenant; your credentials are for "acme-corp"');
    expect((error as FieldErrorsException).fieldErrors).toEqual([{ field: 'dataset.tenant_id', message: error.message }]);
  });

  it('answers 403 naming tenant_id when the query names another tenant', async () => {
    const error = await rejectionOf(requestWith({ headers: { 'x-api-key': 'dev-acme-key' }, query: { tenant_id: 'globex' } }));
    expect(error.getStatus()).toBe(403);
    expect(error.message).toBe('tenant_id "globex" is not your tenant; your credentials are for "acme-corp"');
  });

  it("accepts a body and query that name the caller's own tenant", async () => {
    const request = requestWith({
      headers: { 'x-api-key': 'dev-acme-key' },
      body: { dataset: { tenant_id: 'acme-corp' } },
      query: { tenant_id: 'acme-corp' },
    });
    await expect(guard.canActivate(contextFor(request))).resolves.toBe(true);
  });
});
