-- AlterTable
ALTER TABLE "TrainingEpoch" ADD COLUMN     "fid" DOUBLE PRECISION,
ADD COLUMN     "inceptionScore" DOUBLE PRECISION,
ADD COLUMN     "inceptionScoreStd" DOUBLE PRECISION;
