import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import { TrackingService } from '@app/ml/tracking/tracking.service';

const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1', actor: 'api-key:dev-acme' };
const RUN_A = '0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d';
const RUN_B = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d';

function mockClient() {
  return {
    createExperiment: jest.fn<MLServiceClient['createExperiment']>(),
    listExperiments: jest.fn<MLServiceClient['listExperiments']>(),
    getExperiment: jest.fn<MLServiceClient['getExperiment']>(),
    searchRuns: jest.fn<MLServiceClient['searchRuns']>().mockResolvedValue({ runs: [], next_page_token: null }),
    getRun: jest.fn<MLServiceClient['getRun']>(),
    getMetricHistory: jest.fn<MLServiceClient['getMetricHistory']>(),
    listArtifacts: jest.fn<MLServiceClient['listArtifacts']>(),
    downloadArtifact: jest.fn<MLServiceClient['downloadArtifact']>(),
    compareRuns: jest.fn<MLServiceClient['compareRuns']>(),
    getLoggedModel: jest.fn<MLServiceClient['getLoggedModel']>(),
    listModelArtifacts: jest.fn<MLServiceClient['listModelArtifacts']>(),
    downloadModelArtifact: jest.fn<MLServiceClient['downloadModelArtifact']>(),
  };
}

describe('TrackingService', () => {
  let client: ReturnType<typeof mockClient>;
  let service: TrackingService;

  beforeEach(() => {
    client = mockClient();
    service = new TrackingService(client as unknown as MLServiceClient);
  });

  it("sends only the search's own fields, for the caller", async () => {
    await service.searchRuns({ filter: 'metrics.auc_roc > 0.8', max_results: 10 }, caller);
    expect(client.searchRuns).toHaveBeenCalledWith(caller, {
      experiment_ids: undefined,
      filter: 'metrics.auc_roc > 0.8',
      order_by: undefined,
      max_results: 10,
      page_token: undefined,
    });
  });

  it('compares each run once, in the order given', async () => {
    await service.compareRuns([RUN_B, RUN_A, RUN_B], caller);
    expect(client.compareRuns).toHaveBeenCalledWith(caller, [RUN_B, RUN_A]);
  });

  it('creates an experiment with its name and tags only', async () => {
    await service.createExperiment({ name: 'churn', tags: { team: 'retention' } }, caller);
    expect(client.createExperiment).toHaveBeenCalledWith(caller, { name: 'churn', tags: { team: 'retention' } });
  });

  it('passes ids and the artifact path through unchanged', async () => {
    await service.getRun(RUN_A, caller);
    await service.getMetricHistory(RUN_A, 'validation_logloss', caller);
    await service.listArtifacts(RUN_A, undefined, caller);
    await service.downloadArtifact(RUN_A, 'model/MLmodel', caller);
    await service.getLoggedModel('m-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', caller);
    await service.getExperiment('3', caller);
    await service.listModelArtifacts('m-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', 'data', caller);
    await service.downloadModelArtifact('m-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', 'MLmodel', caller);
    expect(client.getRun).toHaveBeenCalledWith(caller, RUN_A);
    expect(client.getMetricHistory).toHaveBeenCalledWith(caller, RUN_A, 'validation_logloss');
    expect(client.listArtifacts).toHaveBeenCalledWith(caller, RUN_A, undefined);
    expect(client.downloadArtifact).toHaveBeenCalledWith(caller, RUN_A, 'model/MLmodel');
    expect(client.getLoggedModel).toHaveBeenCalledWith(caller, 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d');
    expect(client.getExperiment).toHaveBeenCalledWith(caller, '3');
    expect(client.listModelArtifacts).toHaveBeenCalledWith(caller, 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', 'data');
    expect(client.downloadModelArtifact).toHaveBeenCalledWith(caller, 'm-0f3c5e7a9b1d4f6e8a2c4e6f8a0b2c4d', 'MLmodel');
  });

  it("lets the ML Service's 404 for another tenant's run through unchanged", async () => {
    client.getRun.mockRejectedValue(new HttpException('run not found', 404));
    await expect(service.getRun(RUN_A, caller)).rejects.toThrow('run not found');
  });
});
