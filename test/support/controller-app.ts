import type { INestApplication, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CommonModule } from '@app/common/common.module';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { TENANT_RESOLVER, type TenantResolver } from '@app/common/tenant/tenant-resolver';
import { TenantGuard } from '@app/common/tenant/tenant.guard';

/**
 * One ML controller behind the real request pipeline (ValidationPipe, error filter, tenant guard),
 * with its service replaced, so controller tests assert the exact answers a caller gets.
 */
export async function startControllerApp(
  controller: Type,
  service: Provider,
  resolver: TenantResolver = new ApiKeyTenantResolver(new Map([['dev-acme-key', 'acme-corp']])),
  /** What else the controller's interceptors need (e.g. ML_OPTIONS). */
  extraProviders: Provider[] = [],
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [CommonModule],
    controllers: [controller],
    providers: [service, { provide: TENANT_RESOLVER, useValue: resolver }, TenantGuard, ...extraProviders],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}
