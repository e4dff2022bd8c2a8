import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { FeatureSetVersion } from '@app/ml/client/ml-service.types';
import type { CreateFeatureSetDto } from '@app/ml/features/dto/create-feature-set.dto';
import { FeaturesService } from '@app/ml/features/features.service';

const caller: TenantContext = { tenantId: 'acme-corp', requestId: 'req-1' };

const DEFINITION: CreateFeatureSetDto = {
  name: 'customer',
  entity: { name: 'customer', join_keys: ['customer_id'] },
  source: { source: 'table', table: 'shop.customer_history' },
  timestamp_column: 'updated_at',
  features: [{ column: 'spend' }],
};

const VERSION: FeatureSetVersion = {
  name: 'customer',
  version: 1,
  created_at: '2026-09-01T12:00:00Z',
  definition: { ...DEFINITION, features: [{ column: 'spend', name: null, transform: null }], description: '', source: { source: 'table', table: 'shop.customer_history', query: null } },
  fitted: [{ name: 'spend', columns: ['spend'] }],
  feast_project: 'acme_corp',
  feast_feature_view: 'customer_v1',
};

function mockClient() {
  return {
    createFeatureSet: jest.fn<MLServiceClient['createFeatureSet']>().mockResolvedValue({ version: VERSION, created: true }),
    createTrainingSet: jest.fn<MLServiceClient['createTrainingSet']>(),
  };
}

describe('FeaturesService', () => {
  let client: ReturnType<typeof mockClient>;
  let service: FeaturesService;

  beforeEach(() => {
    client = mockClient();
    service = new FeaturesService(client as unknown as MLServiceClient);
  });

  it('sends the definition for the caller and answers the version in this API shape, saying whether it is new', async () => {
    const { version, created } = await service.define(DEFINITION, caller);

    const [context, definition] = client.createFeatureSet.mock.calls[0];
    expect(context).toBe(caller);
    expect(definition.source).toEqual({ source: 'table', table: 'shop.customer_history' });
    expect(created).toBe(true);
    expect(version.definition.source).toEqual({ source: 'table', table: 'shop.customer_history' });
    expect(version.feast_feature_view).toBe('customer_v1');
    expect(version.definition.features).toEqual([{ column: 'spend' }]);
    expect(version.fitted[0]).toMatchObject({ name: 'spend', columns: ['spend'], mean: null });
  });

  it('forwards only the fields a transform was given', async () => {
    const window = { type: 'window' as const, aggregation: 'sum' as const, days: 30 };
    await service.define({ ...DEFINITION, features: [{ column: 'spend', transform: window }] }, caller);

    const [, definition] = client.createFeatureSet.mock.calls[0];
    expect(definition.features).toEqual([{ column: 'spend', name: undefined, transform: window }]);
  });

  it("names list items as this API does in the ML Service's refusal", async () => {
    client.createTrainingSet.mockRejectedValue(new FieldErrorsException(422, [{ field: 'entity.join_keys.0', message: 'no such column' }]));
    const request = { entities: { source: 'table' as const, table: 'shop.labels' }, event_timestamp_column: 'as_of', output_table: 'labels' };
    const error = await service.createTrainingSet('customer', 1, request, caller).catch((caught: unknown) => caught);

    expect((error as FieldErrorsException).fieldErrors).toEqual([{ field: 'entity.join_keys[0]', message: 'no such column' }]);
  });
});
