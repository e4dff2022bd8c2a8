import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { SpooledUpload } from '@app/ml/datasets/dataset-upload.interceptor';
import type { DatasetDeletionResponseDto, DatasetListResponseDto, DatasetTableResponseDto, UploadedDatasetTableResponseDto } from '@app/ml/datasets/dto/dataset-responses.dto';
import { UPLOAD_READING_FIELDS, type UploadDatasetDto } from '@app/ml/datasets/dto/upload-dataset.dto';
import { ML_OPTIONS, maxDatasetBytes, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';

/**
 * The tenant's warehouse tables (issue 3): list, describe, upload (bring your own data), delete.
 * The ML Service owns the warehouses and has the last word on names and contents.
 */
@Injectable()
export class DatasetsService {
  constructor(
    private readonly mlService: MLServiceClient,
    @Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions,
  ) {}

  async list(caller: TenantContext): Promise<DatasetListResponseDto> {
    return { tables: await this.mlService.listDatasetTables(caller) };
  }

  get(table: string, caller: TenantContext): Promise<DatasetTableResponseDto> {
    return this.mlService.getDatasetTable(caller, table);
  }

  delete(table: string, caller: TenantContext): Promise<DatasetDeletionResponseDto> {
    return this.mlService.deleteDatasetTable(caller, table);
  }

  /** Streams the spooled file to the ML Service, which loads it all or nothing. */
  upload(form: UploadDatasetDto, file: SpooledUpload | undefined, caller: TenantContext): Promise<UploadedDatasetTableResponseDto> {
    if (file === undefined) {
      throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: 'file', message: 'a CSV or Parquet file is required in the `file` field' }]);
    }
    return this.mlService.uploadDatasetTable(
      caller,
      { path: file.path, filename: file.originalname, sizeBytes: file.size },
      { table: form.table, ...Object.fromEntries(UPLOAD_READING_FIELDS.map((name) => [name, form[name]])) },
      maxDatasetBytes(this.options),
    );
  }
}
