import { describe, expect, it, jest } from '@jest/globals';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import { ServingService } from '@app/ml/serving/serving.service';

const CALLER = { tenantId: 'acme-corp', requestId: 'req-1' };

function serviceWith(client: Partial<MLServiceClient>): ServingService {
  return new ServingService(client as MLServiceClient);
}

describe('ServingService', () => {
  it('forwards the predict body as it came, with the request key', async () => {
    const predict = jest.fn<MLServiceClient['predict']>().mockResolvedValue({ model_id: 'churn', version: '1', predictions: [] });
    const body = { instances: [{ tenure: 3 }] };
    await serviceWith({ predict }).predict('churn', body, 'customer-42', CALLER);
    expect(predict).toHaveBeenCalledWith(CALLER, 'churn', body, 'customer-42', undefined);
    expect(predict.mock.calls[0][2]).toBe(body);
  });

  it('hands the Server-Timing listener to the client', async () => {
    const predict = jest.fn<MLServiceClient['predict']>().mockResolvedValue({ model_id: 'churn', version: '1', predictions: [] });
    const onTiming = jest.fn();
    await serviceWith({ predict }).predict('churn', { instances: [] }, undefined, CALLER, onTiming);
    expect(predict.mock.calls[0][4]).toBe(onTiming);
  });

  it('sends only the fields of a deployment the ML Service knows', async () => {
    const createDeployment = jest.fn<MLServiceClient['createDeployment']>().mockResolvedValue({} as never);
    await serviceWith({ createDeployment }).deploy({ model_name: 'churn-predictor', stage: 'Production', model_id: 'churn' }, CALLER);
    expect(createDeployment).toHaveBeenCalledWith(CALLER, expect.objectContaining({ model_name: 'churn-predictor', stage: 'Production', model_id: 'churn' }));
  });

  it('maps a traffic split to versions and weights', async () => {
    const setTraffic = jest.fn<MLServiceClient['setTraffic']>().mockResolvedValue({} as never);
    await serviceWith({ setTraffic }).setTraffic('churn', { variants: [{ version: 3, weight: 80 }, { version: 4, weight: 20 }] }, CALLER);
    expect(setTraffic).toHaveBeenCalledWith(CALLER, 'churn', { variants: [{ version: 3, weight: 80 }, { version: 4, weight: 20 }] });
  });
});
