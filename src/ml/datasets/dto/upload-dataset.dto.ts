import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';

export const UPLOAD_TABLE_PATTERN = /^(?:uploads\.)?[a-z][a-z0-9_]{0,62}$/;
export const IF_EXISTS_VALUES = ['fail', 'replace'] as const;
export const UPLOAD_FORMATS = ['csv', 'parquet'] as const;

/** The form fields of a dataset upload; the file itself arrives as the `file` part. */
export class UploadDatasetDto {
  @ApiProperty({
    example: 'iris',
    description: 'Name of the new table, stored as `uploads.<name>`: 1-63 lowercase letters, digits and _, starting with a letter (`uploads.iris` is accepted too).',
  })
  @IsString()
  @Matches(UPLOAD_TABLE_PATTERN, { message: 'table must be 1-63 lowercase letters, digits and _, starting with a letter (e.g. iris)' })
  table!: string;

  @ApiPropertyOptional({ enum: IF_EXISTS_VALUES, default: 'fail', description: '`fail`: 409 when the table exists; `replace`: swap it atomically.' })
  @IsOptional()
  @IsIn(IF_EXISTS_VALUES)
  if_exists?: (typeof IF_EXISTS_VALUES)[number];

  @ApiPropertyOptional({ enum: UPLOAD_FORMATS, description: 'Default: from the file name (.csv, .tsv, .parquet), else from its content.' })
  @IsOptional()
  @IsIn(UPLOAD_FORMATS)
  format?: (typeof UPLOAD_FORMATS)[number];

  @ApiPropertyOptional({ example: ',', description: 'CSV field separator. Default `,` (tab for .tsv).' })
  @IsOptional()
  @IsString()
  @Length(1, 1, { message: 'delimiter must be a single character' })
  delimiter?: string;
}

/** What Swagger UI shows: a file picker plus the fields above. */
export const UPLOAD_DATASET_BODY_SCHEMA = {
  type: 'object',
  required: ['file', 'table'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'A CSV or Parquet file.' },
    table: { type: 'string', example: 'iris', description: 'Name of the new table, stored as `uploads.<name>`.' },
    if_exists: { type: 'string', enum: [...IF_EXISTS_VALUES], default: 'fail' },
    format: { type: 'string', enum: [...UPLOAD_FORMATS] },
    delimiter: { type: 'string', example: ',' },
  },
};
