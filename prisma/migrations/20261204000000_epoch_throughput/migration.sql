-- AlterTable
ALTER TABLE "TrainingEpoch" ADD COLUMN "imagesPerSecond" REAL;
