-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "progress" DOUBLE PRECISION;

-- CreateTable
CREATE TABLE "Evaluation" (
    "id" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "scorer" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "samples" INTEGER NOT NULL,
    "seed" INTEGER NOT NULL,
    "splits" INTEGER NOT NULL,
    "metrics" TEXT NOT NULL,
    "isMean" DOUBLE PRECISION,
    "isStd" DOUBLE PRECISION,
    "fid" DOUBLE PRECISION,
    "kidMean" DOUBLE PRECISION,
    "kidStd" DOUBLE PRECISION,
    "parzenMean" DOUBLE PRECISION,
    "parzenStdErr" DOUBLE PRECISION,
    "parzenSigma" DOUBLE PRECISION,
    "details" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Evaluation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReferenceStats" (
    "id" SERIAL NOT NULL,
    "scorer" TEXT NOT NULL,
    "scorerDigest" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "split" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "dim" INTEGER NOT NULL,
    "mean" BYTEA NOT NULL,
    "cov" BYTEA NOT NULL,
    "featureCount" INTEGER NOT NULL,
    "features" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReferenceStats_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Evaluation_modelId_createdAt_idx" ON "Evaluation"("modelId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ReferenceStats_scorer_dataset_split_key" ON "ReferenceStats"("scorer", "dataset", "split");

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_id_fkey" FOREIGN KEY ("id") REFERENCES "Run"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Evaluation" ADD CONSTRAINT "Evaluation_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

