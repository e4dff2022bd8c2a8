import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { FEATURE_SET_NAME, FEATURE_SET_NAME_MESSAGE } from '@app/ml/features/dto/feature-set-params.dto';
import { WarehouseSourceDto } from '@app/ml/training/dto/create-training-job.dto';

/** The ML Service bounds column names of a feature set to 200 characters. */
export const MAX_FEATURE_COLUMN_LENGTH = 200;


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

export const TRANSFORM_TYPES = ['standard', 'min_max', 'one_hot', 'frequency', 'ordinal', 'bin', 'date_part', 'window', 'sql'] as const;
export const DATE_PARTS = ['year', 'quarter', 'month', 'week', 'day', 'dayofweek', 'dayofyear', 'hour'] as const;
export const WINDOW_AGGREGATIONS = ['count', 'sum', 'mean', 'min', 'max'] as const;
export const BIN_STRATEGIES = ['quantile', 'uniform'] as const;

type TransformType = (typeof TRANSFORM_TYPES)[number];
/** Validates the field when the transform is of one of `types` or the field is given anyway (the ML Service refuses it then, naming it). */
const For = (...types: TransformType[]) => ValidateIf((transform: FeatureTransformDto, value: unknown) => types.includes(transform.type) || value !== undefined);

/**
 * How a feature is computed from its column, in DuckDB. Statistics (mean/std, min/max, categories, frequencies,
 * bin edges) are fitted on the source when the version is made and kept in the version (`fitted`).
 */
export class FeatureTransformDto {
  @ApiProperty({
    enum: TRANSFORM_TYPES,
    example: 'standard',
    description:
      '`standard` (x − mean) / std; `min_max` (x − min) / (max − min); `one_hot` a 0/1 feature per category; `frequency` the category\'s share of the rows; `ordinal` its position; `bin` its bin index; `date_part` a part of a date; `window` an aggregate of the entity\'s rows in the last `days` days; `sql` a DuckDB expression over the row.',
  })
  @IsIn(TRANSFORM_TYPES)
  type!: TransformType;

  @ApiPropertyOptional({ type: [String], example: ['month-to-month', 'one-year', 'two-year'], description: '`ordinal`: the order; default the sorted values.' })
  @For('ordinal')
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  categories?: string[];

  @ApiPropertyOptional({ type: [Number], example: [0, 12, 24, 48, 72], description: '`bin`: increasing edges (or `bins`).' })
  @For('bin')
  @IsOptional()
  @ArrayMinSize(2)
  @ArrayMaxSize(101)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  edges?: number[];

  @ApiPropertyOptional({ example: 4, minimum: 2, maximum: 100, description: '`bin`: how many bins to fit on the source (or `edges`).' })
  @For('bin')
  @IsOptional()
  @IsInt()
  @Min(2)
  @Max(100)
  bins?: number;

  @ApiPropertyOptional({ enum: BIN_STRATEGIES, default: 'quantile', description: '`bin` with `bins`: equal counts (`quantile`) or equal widths (`uniform`).' })
  @For('bin')
  @IsOptional()
  @IsIn(BIN_STRATEGIES)
  strategy?: (typeof BIN_STRATEGIES)[number];

  @ApiPropertyOptional({ enum: DATE_PARTS, example: 'month', description: '`date_part` (ISO: `dayofweek` Monday 1 … Sunday 7, `week` the ISO week).' })
  @For('date_part')
  @IsIn(DATE_PARTS)
  part?: (typeof DATE_PARTS)[number];

  @ApiPropertyOptional({ enum: WINDOW_AGGREGATIONS, example: 'sum', description: '`window`: over the entity\'s source rows with timestamp in (t − days, t].' })
  @For('window')
  @IsIn(WINDOW_AGGREGATIONS)
  aggregation?: (typeof WINDOW_AGGREGATIONS)[number];

  @ApiPropertyOptional({ example: 30, minimum: 1, maximum: 3650, description: '`window`: how many days back.' })
  @For('window')
  @IsInt()
  @Min(1)
  @Max(3650)
  days?: number;

  @ApiPropertyOptional({ example: 'total_charges / nullif(tenure, 0)', maxLength: 5000, description: "`sql`: a DuckDB expression over the source row's columns (read-only)." })
  @For('sql')
  @MaxLength(5000)
  @IsNotEmpty()
  @IsString()
  expression?: string;
}

/**
 * One feature: a column of the source as it is, or transformed. The name defaults to the column (plain, and the
 * base of one-hot's `<column>_<category>` columns) or `<column>_<transform>` (e.g. `tenure_standard`,
 * `monthly_charges_sum_30d`); a `sql` feature has no column and needs a name.
 */
export class FeatureDto {
  @ApiPropertyOptional({ example: 'monthly_charges', maxLength: MAX_FEATURE_COLUMN_LENGTH })
  @IsOptional()
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH)
  @IsNotEmpty()
  @IsString()
  column?: string;

  @ApiPropertyOptional({ example: 'monthly_charges_scaled', maxLength: MAX_FEATURE_COLUMN_LENGTH })
  @IsOptional()
  @MaxLength(MAX_FEATURE_COLUMN_LENGTH)
  @IsNotEmpty()
  @IsString()
  name?: string;

  @ApiPropertyOptional({ type: FeatureTransformDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => FeatureTransformDto)
  transform?: FeatureTransformDto;
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
