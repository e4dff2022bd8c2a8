import { Module } from '@nestjs/common';
import { DatasetsModule } from '@app/ml/datasets/datasets.module';
import { EdaModule } from '@app/ml/eda/eda.module';
import { FeaturesModule } from '@app/ml/features/features.module';
import { JobsModule } from '@app/ml/jobs/jobs.module';
import { RegistryModule } from '@app/ml/registry/registry.module';
import { ServingModule } from '@app/ml/serving/serving.module';
import { TrackingModule } from '@app/ml/tracking/tracking.module';
import { TrainingModule } from '@app/ml/training/training.module';
import { TuningModule } from '@app/ml/tuning/tuning.module';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

/** The tool registry over every concern's service, for the MCP server (and the chat agents to come). */
@Module({
  imports: [DatasetsModule, TrainingModule, TuningModule, JobsModule, EdaModule, RegistryModule, ServingModule, TrackingModule, FeaturesModule],
  providers: [ToolRegistry],
  exports: [ToolRegistry],
})
export class ToolsModule {}
