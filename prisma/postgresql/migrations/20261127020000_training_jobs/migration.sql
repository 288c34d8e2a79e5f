-- CreateTable
CREATE TABLE "TrainingJob" (
    "id" TEXT NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "TrainingJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrainingEpoch" (
    "jobId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "generatorLoss" DOUBLE PRECISION NOT NULL,
    "discriminatorLoss" DOUBLE PRECISION NOT NULL,
    "dAccuracyReal" DOUBLE PRECISION NOT NULL,
    "dAccuracyFake" DOUBLE PRECISION NOT NULL,
    "testError" DOUBLE PRECISION,
    "seconds" DOUBLE PRECISION NOT NULL,
    "samples" BYTEA NOT NULL,
    "keptModelId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrainingEpoch_pkey" PRIMARY KEY ("jobId","epoch")
);

-- CreateIndex
CREATE INDEX "TrainingJob_state_idx" ON "TrainingJob"("state");

-- CreateIndex
CREATE INDEX "TrainingJob_createdAt_id_idx" ON "TrainingJob"("createdAt", "id");

-- AddForeignKey
ALTER TABLE "TrainingJob" ADD CONSTRAINT "TrainingJob_id_fkey" FOREIGN KEY ("id") REFERENCES "Run"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrainingJob" ADD CONSTRAINT "TrainingJob_parentModelId_fkey" FOREIGN KEY ("parentModelId") REFERENCES "Model"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrainingJob" ADD CONSTRAINT "TrainingJob_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrainingEpoch" ADD CONSTRAINT "TrainingEpoch_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "TrainingJob"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
