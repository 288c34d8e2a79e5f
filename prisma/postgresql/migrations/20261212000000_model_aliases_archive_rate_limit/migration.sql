-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "archivedAt" TIMESTAMP(3),
ADD COLUMN     "archivedBy" TEXT;

-- CreateTable
CREATE TABLE "ModelAlias" (
    "name" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "setBy" TEXT NOT NULL,
    "setAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelAlias_pkey" PRIMARY KEY ("name")
);

-- CreateTable
-- UNLOGGED (edited by hand; Prisma's schema cannot say it): no WAL, so a request's rate-limit update
-- does not wait for a disk flush at commit. After a crash the table is empty: every key starts with
-- a full bucket, which is all a rate limit loses.
CREATE UNLOGGED TABLE "RateLimit" (
    "key" TEXT NOT NULL,
    "tat" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ModelAlias_modelId_idx" ON "ModelAlias"("modelId");

-- AddForeignKey
ALTER TABLE "ModelAlias" ADD CONSTRAINT "ModelAlias_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

