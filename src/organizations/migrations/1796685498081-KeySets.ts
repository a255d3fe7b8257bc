import { MigrationInterface, QueryRunner } from "typeorm";

const Z = '00000000-0000-0000-0000-000000000000';

export class KeySets1796685498081 implements MigrationInterface {
    name = 'KeySets1796685498081'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE \`key_sets\` (\`id\` int NOT NULL AUTO_INCREMENT, \`digest\` varchar(64) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`kinds\` varchar(512) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, UNIQUE INDEX \`idx_key_sets_digest\` (\`digest\`), PRIMARY KEY (\`id\`)) ENGINE=InnoDB`);
        await queryRunner.query(`CREATE TABLE \`organization_key_set_counts\` (\`organization_id\` varchar(128) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`key_set_id\` int NOT NULL, \`role\` varchar(8) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`two_factor_enabled\` tinyint NOT NULL, \`members\` int NOT NULL DEFAULT '0', PRIMARY KEY (\`organization_id\`, \`key_set_id\`, \`role\`, \`two_factor_enabled\`)) ENGINE=InnoDB`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`allowed_aaguids\` varchar(3700) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL DEFAULT ''`);
        await queryRunner.query(`ALTER TABLE \`organizations\` ADD \`require_device_bound\` tinyint NOT NULL DEFAULT 0`);
        await queryRunner.query(`ALTER TABLE \`users\` ADD \`key_set_id\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`ALTER TABLE \`memberships\` ADD \`key_set_id\` int NOT NULL DEFAULT '0'`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_ks_user\` ON \`memberships\` (\`organization_id\`, \`key_set_id\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_ks_role_user\` ON \`memberships\` (\`organization_id\`, \`key_set_id\`, \`role\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_tfa_ks_user\` ON \`memberships\` (\`organization_id\`, \`two_factor_enabled\`, \`key_set_id\`, \`user_id\`)`);
        await queryRunner.query(`CREATE INDEX \`idx_memberships_org_tfa_ks_role_user\` ON \`memberships\` (\`organization_id\`, \`two_factor_enabled\`, \`key_set_id\`, \`role\`, \`user_id\`)`);
        // Added by hand: the key sets of keys registered before attestation (of no known model, unattested:
        // device-bound, synced, or both), each user's and membership's, and every organization's counts of them.
        for (const kinds of [`${Z}:u:d`, `${Z}:u:s`, `${Z}:u:d,${Z}:u:s`]) {
            await queryRunner.query(`INSERT INTO \`key_sets\` (\`digest\`, \`kinds\`) VALUES (SHA2(?, 256), ?)`, [kinds, kinds]);
        }
        await queryRunner.query(`UPDATE \`users\` u SET u.\`key_set_id\` = (SELECT k.\`id\` FROM \`key_sets\` k WHERE k.\`kinds\` = CONCAT_WS(',',
            IF(EXISTS (SELECT 1 FROM \`webauthn_credentials\` c WHERE c.\`user_id\` = u.\`id\` AND c.\`device_bound\` = 1), '${Z}:u:d', NULL),
            IF(EXISTS (SELECT 1 FROM \`webauthn_credentials\` c WHERE c.\`user_id\` = u.\`id\` AND c.\`device_bound\` = 0), '${Z}:u:s', NULL)))
            WHERE EXISTS (SELECT 1 FROM \`webauthn_credentials\` c WHERE c.\`user_id\` = u.\`id\`)`);
        await queryRunner.query(`UPDATE \`memberships\` m JOIN \`users\` u ON u.\`id\` = m.\`user_id\` SET m.\`key_set_id\` = u.\`key_set_id\` WHERE u.\`key_set_id\` <> 0`);
        await queryRunner.query(`INSERT INTO \`organization_key_set_counts\` (\`organization_id\`, \`key_set_id\`, \`role\`, \`two_factor_enabled\`, \`members\`)
            SELECT \`organization_id\`, \`key_set_id\`, \`role\`, \`two_factor_enabled\`, COUNT(*) FROM \`memberships\` GROUP BY \`organization_id\`, \`key_set_id\`, \`role\`, \`two_factor_enabled\``);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_ks_role_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_tfa_ks_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_ks_role_user\` ON \`memberships\``);
        await queryRunner.query(`DROP INDEX \`idx_memberships_org_ks_user\` ON \`memberships\``);
        await queryRunner.query(`ALTER TABLE \`memberships\` DROP COLUMN \`key_set_id\``);
        await queryRunner.query(`ALTER TABLE \`users\` DROP COLUMN \`key_set_id\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`require_device_bound\``);
        await queryRunner.query(`ALTER TABLE \`organizations\` DROP COLUMN \`allowed_aaguids\``);
        await queryRunner.query(`DROP TABLE \`organization_key_set_counts\``);
        await queryRunner.query(`DROP TABLE \`key_sets\``);
    }

}
