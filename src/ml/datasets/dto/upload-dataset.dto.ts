import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsJSON, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export const UPLOAD_TABLE_PATTERN = /^(?:uploads\.)?[a-z][a-z0-9_]{0,62}$/;
export const IF_EXISTS_VALUES = ['fail', 'replace'] as const;
export const UPLOAD_FORMATS = ['csv', 'parquet'] as const;
export const BOOLEAN_FORM_VALUES = ['true', 'false'] as const;
export const DECIMAL_SEPARATORS = ['.', ','] as const;
export const THOUSANDS_SEPARATORS = [',', '.', ' ', "'", '_'] as const;
export const CSV_ENCODINGS = ['utf-8', 'latin-1', 'utf-16'] as const;
/** Longest JSON form field (`column_types` names columns); the ML Service takes up to 16 KiB. */
export const MAX_JSON_FIELD_LENGTH = 16 * 1024;

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

  @ApiPropertyOptional({ example: ';', description: "CSV field separator. Default: detected by DuckDB's sniffer (`,` `;` `|` tab; tab for .tsv)." })
  @IsOptional()
  @IsString()
  @Length(1, 1, { message: 'delimiter must be a single character' })
  delimiter?: string;

  @ApiPropertyOptional({ enum: BOOLEAN_FORM_VALUES, default: 'true', description: 'CSV: the first row names the columns.' })
  @IsOptional()
  @IsIn(BOOLEAN_FORM_VALUES)
  header?: (typeof BOOLEAN_FORM_VALUES)[number];

  @ApiPropertyOptional({ enum: DECIMAL_SEPARATORS, default: '.', description: 'CSV: decimal separator in numbers.' })
  @IsOptional()
  @IsIn(DECIMAL_SEPARATORS)
  decimal_separator?: (typeof DECIMAL_SEPARATORS)[number];

  @ApiPropertyOptional({ enum: THOUSANDS_SEPARATORS, description: 'CSV: digit grouping in numbers (e.g. `.` with decimal_separator `,`).' })
  @IsOptional()
  @IsIn(THOUSANDS_SEPARATORS)
  thousands_separator?: (typeof THOUSANDS_SEPARATORS)[number];

  @ApiPropertyOptional({ example: '["NA", "\\N", ""]', description: 'CSV: JSON array of the texts that mean a missing value. Default: only an empty field.' })
  @IsOptional()
  @IsJSON({ message: 'null_markers must be a JSON array of strings' })
  @MaxLength(MAX_JSON_FIELD_LENGTH)
  null_markers?: string;

  @ApiPropertyOptional({ example: '%d/%m/%Y', description: 'CSV: strftime format of the date columns. Without it, a date column whose day/month order is ambiguous stays text (and the answer says so).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  date_format?: string;

  @ApiPropertyOptional({ example: '%d/%m/%Y %H:%M', description: 'CSV: strftime format of the timestamp columns.' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timestamp_format?: string;

  @ApiPropertyOptional({ example: '{"zip": "VARCHAR", "n": "INTEGER"}', description: 'CSV: JSON object of column → DuckDB type; an unknown column or type is a 422 naming it.' })
  @IsOptional()
  @IsJSON({ message: 'column_types must be a JSON object of column name to DuckDB type' })
  @MaxLength(MAX_JSON_FIELD_LENGTH)
  column_types?: string;

  @ApiPropertyOptional({ enum: CSV_ENCODINGS, default: 'utf-8', description: 'CSV: text encoding.' })
  @IsOptional()
  @IsIn(CSV_ENCODINGS)
  encoding?: (typeof CSV_ENCODINGS)[number];
}

/** The form fields the ML Service reads besides `file` and `table`, forwarded as given. */
export const UPLOAD_READING_FIELDS = [
  'if_exists',
  'format',
  'delimiter',
  'header',
  'decimal_separator',
  'thousands_separator',
  'null_markers',
  'date_format',
  'timestamp_format',
  'column_types',
  'encoding',
] as const;

/** What Swagger UI shows: a file picker plus the fields above. */
export const UPLOAD_DATASET_BODY_SCHEMA = {
  type: 'object',
  required: ['file', 'table'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'A CSV or Parquet file.' },
    table: { type: 'string', example: 'iris', description: 'Name of the new table, stored as `uploads.<name>`.' },
    if_exists: { type: 'string', enum: [...IF_EXISTS_VALUES], default: 'fail' },
    format: { type: 'string', enum: [...UPLOAD_FORMATS] },
    delimiter: { type: 'string', example: ';', description: 'Default: detected.' },
    header: { type: 'string', enum: [...BOOLEAN_FORM_VALUES], default: 'true' },
    decimal_separator: { type: 'string', enum: [...DECIMAL_SEPARATORS], default: '.' },
    thousands_separator: { type: 'string', enum: [...THOUSANDS_SEPARATORS] },
    null_markers: { type: 'string', example: '["NA", "\\N", ""]', description: 'JSON array of strings.' },
    date_format: { type: 'string', example: '%d/%m/%Y' },
    timestamp_format: { type: 'string', example: '%d/%m/%Y %H:%M' },
    column_types: { type: 'string', example: '{"zip": "VARCHAR"}', description: 'JSON object: column → DuckDB type.' },
    encoding: { type: 'string', enum: [...CSV_ENCODINGS], default: 'utf-8' },
  },
};
