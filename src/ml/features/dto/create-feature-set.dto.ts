import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsDefined, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { FEATURE_SET_NAME, FEATURE_SET_NAME_MESSAGE } from '@app/ml/features/dto/feature-set-params.dto';
import { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';

/** The ML Service bounds column names of a feature set to 200 characters. */
export const MAX_FEATURE_COLUMN_LENGTH = 200;

/**
 * A table or read-only query of the caller's warehouse. No `tenant_id` here: the tenant is the caller's,
 * and a feature set never reads another tenant's warehouse.
 */
export class WarehouseSourceDto extends OmitType(DatasetDto, ['tenant_id'] as const) {}

/** What a feature row describes (e.g. a customer) and the columns that identify it. */
export class EntityDto {
  @ApiProperty({ example: 'customer' })
  @Matches(FEATURE_SET_NAME, { message: `entity.name ${FEATURE_SET_NAME_MESSAGE}` })
  name!: string;

  @ApiProperty({ type: [String], example: ['customer_id'], minItems: 1, maxItems: 8, description: 'Columns of the source that identify the entity.' })
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH, { each: true })
  join_keys!: string[];
}

/** One feature: a column of the source, served under the column's own name. */
export class FeatureDto {
  @ApiProperty({ example: 'monthly_charges', maxLength: MAX_FEATURE_COLUMN_LENGTH })
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH)
  @IsNotEmpty()
  @IsString()
  column!: string;
}

/**
 * A feature set (Feast: a feature view over a batch source): features of an entity read from the caller's
 * warehouse, each value valid from its row's event timestamp on. Defining it again unchanged answers the latest
 * version; a changed definition becomes the next version, and earlier versions stay as they were.
 */
export class CreateFeatureSetDto {
  @ApiProperty({ example: 'customer', description: 'Lowercase letters, digits and _ (Feast names its view `<name>_v<version>`).' })
  @Matches(FEATURE_SET_NAME, { message: `name ${FEATURE_SET_NAME_MESSAGE}` })
  name!: string;

  @ApiPropertyOptional({ example: 'Plan and spend of each customer', maxLength: 2000, default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ type: EntityDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => EntityDto)
  entity!: EntityDto;

  @ApiProperty({ type: WarehouseSourceDto, description: 'The table or read-only query the features come from.' })
  @IsDefined()
  @ValidateNested()
  @Type(() => WarehouseSourceDto)
  source!: WarehouseSourceDto;

  @ApiProperty({ example: 'updated_at', maxLength: MAX_FEATURE_COLUMN_LENGTH, description: "Column of the source saying when each row's values became known (TIMESTAMP or DATE)." })
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH)
  @IsNotEmpty()
  @IsString()
  timestamp_column!: string;

  @ApiProperty({ type: [FeatureDto], minItems: 1, maxItems: 500 })
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => FeatureDto)
  features!: FeatureDto[];
}
