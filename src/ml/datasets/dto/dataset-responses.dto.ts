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

  @ApiProperty({ description: 'Approximate number of distinct non-null values.' })
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

export class DatasetDeletionResponseDto {
  @ApiProperty({ example: 'uploads.iris', description: 'The table that was dropped.' })
  deleted!: string;
}
