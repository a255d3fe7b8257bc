import { MigrationInterface, QueryRunner } from "typeorm";

export class Initial1795812884372 implements MigrationInterface {
    name = 'Initial1795812884372'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`audit_events\` (\`id\` bigint NOT NULL AUTO_INCREMENT, \`action\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`actor_id\` varchar(160) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`reason\` varchar(500) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`client_ip\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`occurred_at\` datetime(3) NOT NULL, INDEX \`idx_audit_events_organization\` (\`organization_id\`, \`id\`), INDEX \`idx_audit_events_user\` (\`user_id\`, \`id\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`memberships\` (\`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`role\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`two_factor_enabled\` tinyint NOT NULL DEFAULT 0, \`created_at\` datetime(3) NOT NULL, INDEX \`idx_memberships_org_tfa_role_user\` (\`organization_id\`, \`two_factor_enabled\`, \`role\`, \`user_id\`), INDEX \`idx_memberships_org_role_user\` (\`organization_id\`, \`role\`, \`user_id\`), INDEX \`idx_memberships_org_tfa_user\` (\`organization_id\`, \`two_factor_enabled\`, \`user_id\`), INDEX \`idx_memberships_user\` (\`user_id\`), PRIMARY KEY (\`organization_id\`, \`user_id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`organizations\` (\`id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`name\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`requires_two_factor\` tinyint NOT NULL DEFAULT 0, \`two_factor_required_since\` datetime(3) NULL, \`grace_period_ends_at\` datetime(3) NULL, \`owners_with_two_factor\` int NOT NULL DEFAULT '0', \`owners_without_two_factor\` int NOT NULL DEFAULT '0', \`members_with_two_factor\` int NOT NULL DEFAULT '0', \`members_without_two_factor\` int NOT NULL DEFAULT '0', \`created_at\` datetime(3) NOT NULL, \`updated_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`pending_setups\` (\`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`method\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`payload_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`lookup_hash\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NULL, \`display\` varchar(40) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NULL, \`expires_at\` datetime(3) NOT NULL, \`created_at\` datetime(3) NOT NULL, PRIMARY KEY (\`user_id\`, \`method\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`recovery_codes\` (\`id\` int NOT NULL AUTO_INCREMENT, \`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`code_hash\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`code_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`position\` smallint NOT NULL, \`used_at\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, UNIQUE INDEX \`uq_recovery_codes_user_hash\` (\`user_id\`, \`code_hash\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`sms_factors\` (\`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`phone_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`phone_hash\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`phone_masked\` varchar(40) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, \`last_used_at\` datetime(3) NULL, INDEX \`idx_sms_factors_phone_hash\` (\`phone_hash\`), PRIMARY KEY (\`user_id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`totp_factors\` (\`user_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`secret_ciphertext\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`created_at\` datetime(3) NOT NULL, \`last_used_at\` datetime(3) NULL, PRIMARY KEY (\`user_id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`users\` (\`id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`two_factor_enabled\` tinyint NOT NULL DEFAULT 0, \`enabled_at\` datetime(3) NULL, \`failed_attempts_in_row\` int NOT NULL DEFAULT '0', \`last_totp_step\` int NULL, \`recovery_codes_generated_at\` datetime(3) NULL, \`created_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE \`users\``);
        await queryRunner.query(`DROP TABLE \`totp_factors\``);
        await queryRunner.query(`DROP INDEX \`idx_sms_factors_phone_hash\` ON \`sms_factors\``);
        await queryRunner.query(`DROP TABLE \`sms_factors\``);
        await queryRunner.query(`DROP INDEX \`uq_recovery_codes_user_hash\` ON \`recovery_codes\``);
        await queryRunner.query(`DROP TABLE \`recovery_codes\``);
        await queryRunner.query(`DROP TABLE \`pending_setups\``);
        await queryRunner.query(`DROP TABLE \`organizations\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_role_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_role_user\` ON \`memberships\``);
        await queryRunner.query(`DROP TABLE \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_audit_events_user\` ON \`audit_events\``);
        await queryRunner.query(`DROP INDEX \`idx_audit_events_organization\` ON \`audit_events\``);
        await queryRunner.query(`DROP TABLE \`audit_events\``);
    }

}
