import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import { RegistryService } from '@app/ml/registry/registry.service';

const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1', actor: 'alice' };

function mockClient() {
  return {
    registerModelVersion: jest.fn<MLServiceClient['registerModelVersion']>(),
    searchModels: jest.fn<MLServiceClient['searchModels']>(),
    getModel: jest.fn<MLServiceClient['getModel']>(),
    updateModel: jest.fn<MLServiceClient['updateModel']>(),
    deleteModel: jest.fn<MLServiceClient['deleteModel']>(),
    getModelVersion: jest.fn<MLServiceClient['getModelVersion']>(),
    updateModelVersion: jest.fn<MLServiceClient['updateModelVersion']>(),
    deleteModelVersion: jest.fn<MLServiceClient['deleteModelVersion']>().mockResolvedValue({}),
    transitionModelVersionStage: jest.fn<MLServiceClient['transitionModelVersionStage']>(),
    setModelAlias: jest.fn<MLServiceClient['setModelAlias']>(),
    deleteModelAlias: jest.fn<MLServiceClient['deleteModelAlias']>(),
    getModelAudit: jest.fn<MLServiceClient['getModelAudit']>(),
  };
}

describe('RegistryService', () => {
  let client: ReturnType<typeof mockClient>;
  let service: RegistryService;

  beforeEach(() => {
    client = mockClient();
    service = new RegistryService(client as unknown as MLServiceClient);
  });

  it('registers from a job with the caller (and so its actor)', async () => {
    await service.registerVersion('churn', { job_id: 'train-0123456789ab', description: 'first' }, caller);
    expect(client.registerModelVersion).toHaveBeenCalledWith(caller, 'churn', {
      job_id: 'train-0123456789ab',
      run_id: undefined,
      description: 'first',
      tags: undefined,
    });
  });

  it('turns path versions into numbers', async () => {
    await service.getVersion('churn', '12', caller);
    await service.transitionStage('churn', '12', { stage: 'Production', reason: 'best auc' }, caller);
    await service.updateVersion('churn', '12', { tags: { a: 'b' } }, caller);
    await expect(service.deleteVersion('churn', '12', caller)).resolves.toBeUndefined();
    expect(client.getModelVersion).toHaveBeenCalledWith(caller, 'churn', 12);
    expect(client.transitionModelVersionStage).toHaveBeenCalledWith(caller, 'churn', 12, { stage: 'Production', reason: 'best auc' });
    expect(client.updateModelVersion).toHaveBeenCalledWith(caller, 'churn', 12, { description: undefined, tags: { a: 'b' } });
    expect(client.deleteModelVersion).toHaveBeenCalledWith(caller, 'churn', 12);
  });

  it('deletes for real only without dry_run', async () => {
    await service.deleteModel('churn', {}, caller);
    await service.deleteModel('churn', { dry_run: true }, caller);
    expect(client.deleteModel.mock.calls.map((call) => call[2])).toEqual([false, true]);
  });

  it('passes the catalog search, aliases and audit through', async () => {
    await service.searchModels({ metric: 'auc_roc>0.8', stage: 'Production' }, caller);
    await service.setAlias('churn', 'champion', { version: 2 }, caller);
    await service.deleteAlias('churn', 'champion', caller);
    await service.getAudit('churn', caller);
    await service.getModel('churn', caller);
    await service.updateModel('churn', { description: 'd' }, caller);
    expect(client.searchModels).toHaveBeenCalledWith(caller, { name: undefined, tag: undefined, stage: 'Production', metric: 'auc_roc>0.8' });
    expect(client.setModelAlias).toHaveBeenCalledWith(caller, 'churn', 'champion', { version: 2 });
    expect(client.deleteModelAlias).toHaveBeenCalledWith(caller, 'churn', 'champion');
    expect(client.getModelAudit).toHaveBeenCalledWith(caller, 'churn');
    expect(client.getModel).toHaveBeenCalledWith(caller, 'churn');
    expect(client.updateModel).toHaveBeenCalledWith(caller, 'churn', { description: 'd', tags: undefined });
  });
});
