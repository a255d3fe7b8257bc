import { MigrationInterface, QueryRunner } from "typeorm";

export class CredentialAttestation1796685498080 implements MigrationInterface {
    name = 'CredentialAttestation1796685498080'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` ADD \`aaguid\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000'`);
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` ADD \`attested\` tinyint NOT NULL DEFAULT 0`);
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` ADD \`device_bound\` tinyint NOT NULL DEFAULT 0`);
        // Added by hand: keys registered before attestation are unattested, of no known model; device-bound when not backup eligible.
        await queryRunner.query(`UPDATE \`webauthn_credentials\` SET \`device_bound\` = 1 - \`backup_eligible\``);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` DROP COLUMN \`device_bound\``);
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` DROP COLUMN \`attested\``);
        await queryRunner.query(`ALTER TABLE \`webauthn_credentials\` DROP COLUMN \`aaguid\``);
    }

}
