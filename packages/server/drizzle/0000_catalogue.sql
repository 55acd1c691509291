CREATE TABLE "assets" (
	"key" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"asset_id" text NOT NULL,
	"file_name" text,
	"file_type" text NOT NULL,
	"size" bigint NOT NULL,
	"etag" text NOT NULL,
	"checksum" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"created_by" text
);
--> statement-breakpoint
CREATE TABLE "uploads" (
	"workspace_id" text NOT NULL,
	"upload_id" text NOT NULL,
	"asset_id" text NOT NULL,
	"key" text NOT NULL,
	"file_name" text,
	"file_type" text NOT NULL,
	"declared_size" bigint,
	"part_size" bigint,
	"reserved_bytes" bigint DEFAULT 0 NOT NULL,
	"started_by" text,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"state" text NOT NULL,
	"etag" text,
	CONSTRAINT "uploads_workspace_id_upload_id_pk" PRIMARY KEY("workspace_id","upload_id")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" text PRIMARY KEY NOT NULL,
	"quota_bytes" bigint,
	"stored_bytes" bigint DEFAULT 0 NOT NULL,
	"asset_count" integer DEFAULT 0 NOT NULL,
	"reserved_bytes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "assets_newest" ON "assets" USING btree ("workspace_id","created_at" DESC NULLS FIRST,"key" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "assets_by_name" ON "assets" USING btree ("workspace_id",(lower(coalesce("file_name", "asset_id")) collate "C"),"key");--> statement-breakpoint
CREATE INDEX "uploads_open_by_workspace" ON "uploads" USING btree ("workspace_id","started_at") WHERE "uploads"."state" = 'open';