import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { DatasetUploadInterceptor, type SpooledUpload } from '@app/ml/datasets/dataset-upload.interceptor';
import { DatasetsService } from '@app/ml/datasets/datasets.service';
import { DatasetDeletionResponseDto, DatasetListResponseDto, DatasetTableResponseDto, UploadedDatasetTableResponseDto } from '@app/ml/datasets/dto/dataset-responses.dto';
import { DatasetTableParamDto } from '@app/ml/datasets/dto/dataset-table.param.dto';
import { UPLOAD_DATASET_BODY_SCHEMA, UploadDatasetDto } from '@app/ml/datasets/dto/upload-dataset.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';

@ApiTags('datasets')
@TenantScopedMlApi()
@Controller('api/v1/ml/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @UseInterceptors(DatasetUploadInterceptor)
  @ApiOperation({
    summary: 'Upload a CSV or Parquet file as a table',
    description:
      "Loads the file into the caller's warehouse as `uploads.<table>`, all or nothing, and says how it was read: the schema, the first rows, every column stored as another type than text (and why), and columns kept as text on purpose (Yes/No labels, dates whose day/month order is ambiguous). The delimiter is detected unless given. Train on it with `{\"source\": \"table\", \"table\": \"uploads.<table>\"}`. The size limit is ML_MAX_DATASET_SIZE_GB.",
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: UPLOAD_DATASET_BODY_SCHEMA })
  @ApiCreatedResponse({ type: UploadedDatasetTableResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'No file, or a form field is malformed; the message names it.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The table exists and `if_exists` is not `replace`.' })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'The file is larger than ML_MAX_DATASET_SIZE_GB.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: "The file cannot be read as CSV or Parquet (DuckDB's reason, with the line), its header seems split by another delimiter, a reading option is malformed (e.g. `column_types` naming an unknown column), or the table name is refused." })
  uploadDataset(
    @UploadedFile() file: SpooledUpload | undefined,
    @Body() form: UploadDatasetDto,
    @CallerTenant() caller: TenantContext,
  ): Promise<UploadedDatasetTableResponseDto> {
    return this.datasets.upload(form, file, caller);
  }

  @Get()
  @ApiOperation({ summary: "List the caller's tables", description: 'Demo and uploaded tables with their columns and types.' })
  @ApiOkResponse({ type: DatasetListResponseDto })
  listDatasets(@CallerTenant() caller: TenantContext): Promise<DatasetListResponseDto> {
    return this.datasets.list(caller);
  }

  @Get(':table')
  @ApiOperation({ summary: 'Describe a table', description: 'Row count and per-column type, kind, distinct and null counts. A bare name means `uploads.<name>`.' })
  @ApiOkResponse({ type: DatasetTableResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The table name is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such table for this tenant.' })
  getDataset(@Param() params: DatasetTableParamDto, @CallerTenant() caller: TenantContext): Promise<DatasetTableResponseDto> {
    return this.datasets.get(params.table, caller);
  }

  @Delete(':table')
  @ApiOperation({ summary: 'Delete an uploaded table', description: 'Only tables in `uploads` can be deleted. A bare name means `uploads.<name>`.' })
  @ApiOkResponse({ type: DatasetDeletionResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The table name is malformed.' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'Not an uploaded table (e.g. the demo tables).' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such table for this tenant.' })
  deleteDataset(@Param() params: DatasetTableParamDto, @CallerTenant() caller: TenantContext): Promise<DatasetDeletionResponseDto> {
    return this.datasets.delete(params.table, caller);
  }
}
