-- AlterTable
ALTER TABLE "Run" ADD COLUMN "owner" TEXT;

-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "heartbeatAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_TrainingJob" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "state" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "spec" TEXT NOT NULL,
    "parentModelId" TEXT,
    "modelId" TEXT,
    "folder" TEXT NOT NULL,
    "epochsCompleted" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "resumeOnStart" BOOLEAN NOT NULL DEFAULT false,
    "owner" TEXT,
    "starts" INTEGER NOT NULL DEFAULT 0,
    "cancelRequested" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    CONSTRAINT "TrainingJob_id_fkey" FOREIGN KEY ("id") REFERENCES "Run" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "TrainingJob_parentModelId_fkey" FOREIGN KEY ("parentModelId") REFERENCES "Model" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "TrainingJob_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_TrainingJob" ("createdAt", "epochsCompleted", "error", "finishedAt", "folder", "id", "modelId", "name", "parentModelId", "resumeOnStart", "spec", "startedAt", "state", "version") SELECT "createdAt", "epochsCompleted", "error", "finishedAt", "folder", "id", "modelId", "name", "parentModelId", "resumeOnStart", "spec", "startedAt", "state", "version" FROM "TrainingJob";
DROP TABLE "TrainingJob";
ALTER TABLE "new_TrainingJob" RENAME TO "TrainingJob";
CREATE INDEX "TrainingJob_state_idx" ON "TrainingJob"("state");
CREATE INDEX "TrainingJob_createdAt_id_idx" ON "TrainingJob"("createdAt", "id");
CREATE INDEX "TrainingJob_state_owner_idx" ON "TrainingJob"("state", "owner");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Replica_heartbeatAt_idx" ON "Replica"("heartbeatAt");

-- CreateIndex
CREATE INDEX "Run_status_owner_idx" ON "Run"("status", "owner");

