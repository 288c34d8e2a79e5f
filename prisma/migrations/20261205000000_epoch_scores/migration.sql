-- AlterTable
ALTER TABLE "TrainingEpoch" ADD COLUMN "fid" REAL;
ALTER TABLE "TrainingEpoch" ADD COLUMN "inceptionScore" REAL;
ALTER TABLE "TrainingEpoch" ADD COLUMN "inceptionScoreStd" REAL;
