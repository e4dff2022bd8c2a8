import { ApiProperty } from '@nestjs/swagger';

const COLUMN_KINDS = ['numeric', 'categorical', 'boolean', 'datetime', 'text'] as const;

export class DatasetColumnDto {
  @ApiProperty({ example: 'sepal_length' })
  name!: string;

  @ApiProperty({ example: 'DOUBLE', description: 'DuckDB type, e.g. BIGINT, DOUBLE, VARCHAR.' })
  type!: string;
}

export class DatasetColumnStatsDto extends DatasetColumnDto {
  @ApiProperty({ enum: COLUMN_KINDS, description: 'How training treats the column.' })
  kind!: (typeof COLUMN_KINDS)[number];

  @ApiProperty({ description: 'Approximate number of distinct non-null values (HyperLogLog; never above the count of non-null values).' })
  distinct_count!: number;

  @ApiProperty()
  null_count!: number;
}

export class DatasetTableSummaryDto {
  @ApiProperty({ example: 'uploads' })
  schema_name!: string;

  @ApiProperty({ example: 'iris' })
  name!: string;

  @ApiProperty({ example: 'uploads.iris', description: 'Use it as a training dataset: `{"source": "table", "table": "uploads.iris"}`.' })
  qualified_name!: string;

  @ApiProperty({ type: [DatasetColumnDto] })
  columns!: DatasetColumnDto[];
}

export class DatasetListResponseDto {
  @ApiProperty({ type: [DatasetTableSummaryDto], description: "The tables of the caller's warehouse: the demo's and the uploaded ones." })
  tables!: DatasetTableSummaryDto[];
}

export class DatasetTableResponseDto {
  @ApiProperty({ example: 'uploads' })
  schema_name!: string;

  @ApiProperty({ example: 'iris' })
  name!: string;

  @ApiProperty({ example: 'uploads.iris', description: 'Use it as a training dataset: `{"source": "table", "table": "uploads.iris"}`.' })
  qualified_name!: string;

  @ApiProperty({ description: 'True for tables uploaded by the tenant (schema `uploads`); only those can be deleted.' })
  uploaded!: boolean;

  @ApiProperty({ example: 150 })
  row_count!: number;

  @ApiProperty({ type: [DatasetColumnStatsDto] })
  columns!: DatasetColumnStatsDto[];
}

/** A column stored as another type than the file's text, and why. */
export class DatasetCoercionDto {
  @ApiProperty({ example: 'signup_date' })
  column!: string;

  @ApiProperty({ example: 'text', description: 'What the file holds: `text` for a CSV.' })
  from_type!: string;

  @ApiProperty({ example: 'DATE', description: 'The DuckDB type stored.' })
  to_type!: string;

  @ApiProperty({ example: 'ISO 8601 dates: %Y-%m-%d' })
  reason!: string;
}

/** A column kept as the file's text although it looks typed (e.g. dates in an ambiguous order). */
export class DatasetTextNoteDto {
  @ApiProperty({ example: 'month' })
  column!: string;

  @ApiProperty({ example: 'every value reads both as day/month and as month/day (e.g. 02/01/2021); kept as text — send date_format (or timestamp_format) to read it as dates' })
  reason!: string;
}

/** An upload's answer: the table as read, its first rows, and every value the reading changed. */
export class UploadedDatasetTableResponseDto extends DatasetTableResponseDto {
  @ApiProperty({ type: String, nullable: true, example: ';', description: 'The CSV field separator used (detected unless given); null for Parquet.' })
  delimiter!: string | null;

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'The first rows as stored (dates as ISO text, ±inf and NaN as text).' })
  preview!: Record<string, unknown>[];

  @ApiProperty({ type: [DatasetCoercionDto], description: 'Columns stored as another type than text: BOOLEAN from true/false, dates, numbers read with a decimal or thousands separator, column_types. `Yes`/`No` columns stay text: they are your labels.' })
  coerced!: DatasetCoercionDto[];

  @ApiProperty({ type: [DatasetTextNoteDto], description: 'Columns that look typed but were kept as the file\'s text, with why.' })
  kept_as_text!: DatasetTextNoteDto[];
}

export class DatasetDeletionResponseDto {
  @ApiProperty({ example: 'uploads.iris', description: 'The table that was dropped.' })
  deleted!: string;
}
