-- AlterTable
ALTER TABLE "TrainingEpoch" ADD COLUMN     "imagesPerSecond" DOUBLE PRECISION;
