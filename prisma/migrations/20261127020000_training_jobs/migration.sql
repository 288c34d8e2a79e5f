-- CreateTable
CREATE TABLE "TrainingJob" (
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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    CONSTRAINT "TrainingJob_id_fkey" FOREIGN KEY ("id") REFERENCES "Run" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "TrainingJob_parentModelId_fkey" FOREIGN KEY ("parentModelId") REFERENCES "Model" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "TrainingJob_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "TrainingEpoch" (
    "jobId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "generatorLoss" REAL NOT NULL,
    "discriminatorLoss" REAL NOT NULL,
    "dAccuracyReal" REAL NOT NULL,
    "dAccuracyFake" REAL NOT NULL,
    "testError" REAL,
    "seconds" REAL NOT NULL,
    "samples" BLOB NOT NULL,
    "keptModelId" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("jobId", "epoch"),
    CONSTRAINT "TrainingEpoch_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "TrainingJob_state_idx" ON "TrainingJob"("state");

-- CreateIndex
CREATE INDEX "TrainingJob_createdAt_id_idx" ON "TrainingJob"("createdAt", "id");
