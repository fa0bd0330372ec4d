-- Per group: whether its members' agents load their kept patches again after a reboot.
ALTER TABLE "Group" ADD COLUMN "reloadAtBoot" BOOLEAN NOT NULL DEFAULT true;
