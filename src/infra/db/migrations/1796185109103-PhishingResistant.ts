import { MigrationInterface, QueryRunner } from "typeorm";

export class PhishingResistant1796185109103 implements MigrationInterface {
    name = 'PhishingResistant1796185109103'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`memberships\` ADD \`phishing_resistant\` tinyint NOT NULL DEFAULT 0`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`requires_phishing_resistant\` tinyint NOT NULL DEFAULT 0`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`owners_with_phishing_resistant\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`owners_without_phishing_resistant\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`members_with_phishing_resistant\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`members_without_phishing_resistant\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`owners_phishing_resistant_without_two_factor\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`members_phishing_resistant_without_two_factor\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`users\` ADD \`phishing_resistant\` tinyint NOT NULL DEFAULT 0`);
        // Added by hand: nobody is phishing-resistant yet, so every member counts as without (the counters must be exact from the start).
        await queryRunner.query(`UPDATE \`organizations\` SET \`owners_without_phishing_resistant\` = \`owners_with_two_factor\` + \`owners_without_two_factor\`, \`members_without_phishing_resistant\` = \`members_with_two_factor\` + \`members_without_two_factor\``);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_tfa_pr_role_user\` ON \`memberships\` (\`organization_id\`, \`two_factor_enabled\`, \`phishing_resistant\`, \`role\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_tfa_pr_user\` ON \`memberships\` (\`organization_id\`, \`two_factor_enabled\`, \`phishing_resistant\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_pr_role_user\` ON \`memberships\` (\`organization_id\`, \`phishing_resistant\`, \`role\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_pr_user\` ON \`memberships\` (\`organization_id\`, \`phishing_resistant\`, \`user_id\`)`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_pr_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_pr_role_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_pr_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_pr_role_user\` ON \`memberships\``);
        await queryRunner.query(`ALTER TABLE \`users\` DROP COLUMN \`phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`members_phishing_resistant_without_two_factor\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`owners_phishing_resistant_without_two_factor\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`members_without_phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`members_with_phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`owners_without_phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`owners_with_phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`requires_phishing_resistant\``);
        await queryRunner.query(`ALTER TABLE \`memberships\` DROP COLUMN \`phishing_resistant\``);
    }

}
