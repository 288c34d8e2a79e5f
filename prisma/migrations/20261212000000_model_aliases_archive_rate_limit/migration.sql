-- AlterTable
ALTER TABLE "Model" ADD COLUMN "archivedAt" DATETIME;
ALTER TABLE "Model" ADD COLUMN "archivedBy" TEXT;

-- CreateTable
CREATE TABLE "ModelAlias" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "modelId" TEXT NOT NULL,
    "setBy" TEXT NOT NULL,
    "setAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ModelAlias_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RateLimit" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "tat" REAL NOT NULL
);

-- CreateIndex
CREATE INDEX "ModelAlias_modelId_idx" ON "ModelAlias"("modelId");

