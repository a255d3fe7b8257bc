import { MigrationInterface, QueryRunner } from "typeorm";

export class Exemptions1796685284298 implements MigrationInterface {
    name = 'Exemptions1796685284298'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`two_factor_exemptions\` (\`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`reason\` varchar(500) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`granted_by\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`granted_at\` datetime(3) NOT NULL, \`ends_at\` datetime(3) NOT NULL, INDEX \`idx_exemptions_user\` (\`user_id\`), INDEX \`idx_exemptions_ends\` (\`ends_at\`), INDEX \`idx_exemptions_org_ends_user\` (\`organization_id\`, \`ends_at\`, \`user_id\`), PRIMARY KEY (\`organization_id\`, \`user_id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`grace_period_started_at\` datetime(3) NULL`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`grace_reminder_due_at\` datetime(3) NULL`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`accepts_identity_provider_mfa\` tinyint NOT NULL DEFAULT 0`);
        await queryRunner.query(`CREATE INDEX \`idx_organizations_grace_reminder_due\` ON \`organizations\` (\`grace_reminder_due_at\`)`);
        // Added by hand: a grace period running now is taken as given now, so it gets the reminders whose lead
        // still fits in what is left of it (7 and 1 days, as src/organizations/grace-period.ts), and its end's.
        await queryRunner.query(`UPDATE \`organizations\` SET \`grace_period_started_at\` = UTC_TIMESTAMP(3) WHERE \`grace_period_ends_at\` > UTC_TIMESTAMP(3)`);
        await queryRunner.query(`UPDATE \`organizations\` SET \`grace_reminder_due_at\` = CASE WHEN \`grace_period_ends_at\` - INTERVAL 7 DAY >= \`grace_period_started_at\` THEN \`grace_period_ends_at\` - INTERVAL 7 DAY WHEN \`grace_period_ends_at\` - INTERVAL 1 DAY >= \`grace_period_started_at\` THEN \`grace_period_ends_at\` - INTERVAL 1 DAY ELSE \`grace_period_ends_at\` END WHERE \`grace_period_started_at\` IS NOT NULL`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_organizations_grace_reminder_due\` ON \`organizations\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`accepts_identity_provider_mfa\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`grace_reminder_due_at\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`grace_period_started_at\``);
        await queryRunner.query(`DROP INDEX \`idx_exemptions_org_ends_user\` ON \`two_factor_exemptions\``);
        await queryRunner.query(`DROP INDEX \`idx_exemptions_ends\` ON \`two_factor_exemptions\``);
        await queryRunner.query(`DROP INDEX \`idx_exemptions_user\` ON \`two_factor_exemptions\``);
        await queryRunner.query(`DROP TABLE \`two_factor_exemptions\``);
    }

}
