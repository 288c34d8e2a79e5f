-- AlterTable
ALTER TABLE "Run" ADD COLUMN "progress" REAL;

-- CreateTable
CREATE TABLE "Evaluation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "modelId" TEXT NOT NULL,
    "scorer" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "samples" INTEGER NOT NULL,
    "seed" INTEGER NOT NULL,
    "splits" INTEGER NOT NULL,
    "metrics" TEXT NOT NULL,
    "isMean" REAL,
    "isStd" REAL,
    "fid" REAL,
    "kidMean" REAL,
    "kidStd" REAL,
    "parzenMean" REAL,
    "parzenStdErr" REAL,
    "parzenSigma" REAL,
    "details" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Evaluation_id_fkey" FOREIGN KEY ("id") REFERENCES "Run" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Evaluation_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ReferenceStats" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "scorer" TEXT NOT NULL,
    "scorerDigest" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "split" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "dim" INTEGER NOT NULL,
    "mean" BLOB NOT NULL,
    "cov" BLOB NOT NULL,
    "featureCount" INTEGER NOT NULL,
    "features" BLOB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "Evaluation_modelId_createdAt_idx" ON "Evaluation"("modelId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ReferenceStats_scorer_dataset_split_key" ON "ReferenceStats"("scorer", "dataset", "split");

