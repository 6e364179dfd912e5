-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "email" text NULL;
