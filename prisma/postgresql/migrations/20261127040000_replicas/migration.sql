-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "owner" TEXT;

-- AlterTable
ALTER TABLE "TrainingJob" ADD COLUMN     "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "owner" TEXT,
ADD COLUMN     "starts" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "heartbeatAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Replica_heartbeatAt_idx" ON "Replica"("heartbeatAt");

-- CreateIndex
CREATE INDEX "Run_status_owner_idx" ON "Run"("status", "owner");

-- CreateIndex
CREATE INDEX "TrainingJob_state_owner_idx" ON "TrainingJob"("state", "owner");

