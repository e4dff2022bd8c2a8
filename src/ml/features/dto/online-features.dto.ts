import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsObject, IsOptional, IsString, Matches } from 'class-validator';
import type { OnlineFeaturesResponse } from '@app/ml/client/ml-service.types';

export const MATERIALIZATION_MODES = ['full', 'incremental'] as const;

/** What to load into the online store (a `feature_materialization` job). */
export class MaterializeFeatureSetDto {
  @ApiPropertyOptional({
    enum: MATERIALIZATION_MODES,
    default: 'full',
    description:
      "`full`: the latest source row per entity up to now; `incremental`: the rows since the version's previous materialisation (the first one is full). Window aggregates are computed again as of now either way.",
  })
  @IsOptional()
  @IsIn(MATERIALIZATION_MODES)
  mode?: (typeof MATERIALIZATION_MODES)[number];
}

/** `<feature set>_v<version>:<feature>`: the version's Feast feature view and one of its output columns. */
const FEATURE_REFERENCE = /^[a-z][a-z0-9_]{0,62}_v[1-9][0-9]*:.+$/;

/** Feast's get-online-features request: feature references and the entities' join key values as columns. */
export class OnlineFeaturesDto {
  @ApiProperty({
    type: [String],
    example: ['customer_v1:monthly_charges', 'customer_v1:contract_type_month-to-month'],
    description: 'Each `<feature set>_v<version>:<feature>` (the feature as named in the version\'s `fitted[].columns`); the version must be materialised.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @Matches(FEATURE_REFERENCE, { each: true, message: 'each of features must read <feature set>_v<version>:<feature>, e.g. customer_v1:tenure' })
  features!: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } },
    example: { customer_id: ['CUST-00001', 'CUST-00002'] },
    description: 'Join key -> values (1 to 1000, every list the same length); one answer per position.',
  })
  @IsObject()
  entities!: Record<string, (string | number | boolean)[]>;
}

class OnlineFeatureNamesDto {
  @ApiProperty({ type: [String], example: ['customer_id', 'monthly_charges'], description: 'The join keys, then the features asked for; `results[i]` belongs to `feature_names[i]`.' })
  feature_names!: string[];
}

class OnlineFeatureVectorDto {
  @ApiProperty({ type: 'array', items: {}, example: ['CUST-00001', 'CUST-00002'], description: 'One value per entity (null when none).' })
  values!: unknown[];

  @ApiProperty({ type: [String], example: ['PRESENT', 'NOT_FOUND'], description: 'Per entity: PRESENT, NULL_VALUE, NOT_FOUND (no value for this entity) or OUTSIDE_MAX_AGE.' })
  statuses!: string[];

  @ApiProperty({ type: [String], example: ['2024-03-01T00:00:00Z', '1970-01-01T00:00:00Z'], description: "Per entity: when the value became known (the source row's event timestamp)." })
  event_timestamps!: string[];
}

/** Feast's feature-server answer. */
export class OnlineFeaturesResponseDto {
  @ApiProperty({ type: OnlineFeatureNamesDto })
  metadata!: OnlineFeatureNamesDto;

  @ApiProperty({ type: [OnlineFeatureVectorDto] })
  results!: OnlineFeatureVectorDto[];
}

/** Copied field by field. */
export function toOnlineFeaturesResponse(answer: OnlineFeaturesResponse): OnlineFeaturesResponseDto {
  return {
    metadata: { feature_names: answer.metadata.feature_names },
    results: answer.results.map((vector) => ({ values: vector.values, statuses: vector.statuses, event_timestamps: vector.event_timestamps ?? [] })),
  };
}
